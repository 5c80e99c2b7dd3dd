#!/usr/bin/env python3
"""Replay server for the daily_seongsu ingestion worker (Python 3 standard library only).

It imitates, on 127.0.0.1, the public APIs the worker talks to, so the worker can be
tested with the network closed:

* Seoul Open Data Plaza   GET /{KEY}/json/CardSubwayStatsNew/{START}/{END}/{YYYYMMDD}
                          GET /{KEY}/json/CardSubwayTime/{START}/{END}/{YYYYMM}[/{LINE}[/{STATION}]]
                          (``xml`` instead of ``json`` gives the same data as XML)
* data.go.kr (KASI, KMA)  GET /B090041/openapi/service/SpcdeInfoService/getRestDeInfo
                          GET /1360000/AsosHourlyInfoService/getWthrDataList
                          GET /1360000/VilageFcstInfoService_2.0/getVilageFcst
                          GET /1360000/VilageFcstInfoService_2.0/getUltraSrtNcst
* Open-Meteo              GET /v1/archive    GET /v1/forecast

Data come from the real files of ``--data DIR`` (read at start-up, never copied), or, when
that folder is missing/empty or ``--synthetic`` is given, from a deterministic synthetic
series shaped like Seongsu station; every synthetic response carries the header
``X-Replay-Synthetic: 1`` (and every response ``X-Replay-Mode: data|synthetic``).

Admin API on the same port (see test/replay/README.md for the full contract):
``POST /_faults`` {"rules":[...]} replaces the fault rules, ``GET /_faults`` lists them,
``DELETE /_faults`` clears them, ``GET /_stats`` gives request/fault/status counts,
``POST /_reset`` clears the counts, ``GET /_health`` answers {"ok":true,...}.

Usage:
  replay_server.py --port 0 --port-file PATH --data DIR_OR_EMPTY --seoul-key KEY \
                   --data-go-kr-key KEY [--synthetic] [--latency-ms N] [--today YYYY-MM-DD]
"""

import argparse
import csv
import datetime as dt
import functools
import hashlib
import json
import math
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape as xml_escape

KST = dt.timezone(dt.timedelta(hours=9))

# ----------------------------------------------------------------------------------------
# Constants shared by the routes
# ----------------------------------------------------------------------------------------

SEOUL_SERVICES = ("CardSubwayStatsNew", "CardSubwayTime")
SEOUL_TYPES = ("json", "xml", "xmlf", "xls")
SEOUL_MAX_ROWS = 1000
SEOUL_SAMPLE_KEY = "sample"          # the public sample key: at most 5 rows (ERROR-335)
SEOUL_MESSAGES = {
    "INFO-000": "정상 처리되었습니다",
    "INFO-100": "인증키가 유효하지 않습니다. 인증키가 없는 경우, 열린 데이터 광장 홈페이지에서 인증키를 신청하십시오.",
    "INFO-200": "해당하는 데이터가 없습니다.",
    "ERROR-300": "필수 값이 누락되어 있습니다. 요청인자를 참고 하십시오.",
    "ERROR-301": "파일타입 값이 누락 혹은 유효하지 않습니다. 요청인자 중 TYPE을 확인하십시오.",
    "ERROR-310": "해당하는 서비스를 찾을 수 없습니다. 요청인자 중 SERVICE를 확인하십시오.",
    "ERROR-331": "요청시작위치 값을 확인하십시오. 요청인자 중 START_INDEX를 확인하십시오.",
    "ERROR-332": "요청종료위치 값을 확인하십시오. 요청인자 중 END_INDEX를 확인하십시오.",
    "ERROR-333": "요청위치 값의 타입이 유효하지 않습니다.요청위치 값은 정수를 입력하세요.",
    "ERROR-334": "요청종료위치 보다 요청시작위치가 더 큽니다.요청시작조회건수는 정수를 입력하세요.",
    "ERROR-335": "샘플데이터(샘플키:sample) 는 한번에 최대 5건을 넘을 수 없습니다.",
    "ERROR-336": "데이터요청은 한번에 최대 1000건을 넘을 수 없습니다.",
    "ERROR-500": "서버 오류입니다. 지속적으로 발생시 열린 데이터 광장으로 문의(Q&A) 바랍니다.",
    "ERROR-600": "데이터베이스 연결 오류입니다. 지속적으로 발생시 열린 데이터 광장으로 문의(Q&A) 바랍니다.",
    "ERROR-601": "SQL 문장 오류 입니다. 지속적으로 발생시 열린 데이터 광장으로 문의(Q&A) 바랍니다.",
}

DGK_PATHS = {
    "/B090041/openapi/service/SpcdeInfoService/getRestDeInfo": "getRestDeInfo",
    "/1360000/AsosHourlyInfoService/getWthrDataList": "getWthrDataList",
    "/1360000/VilageFcstInfoService_2.0/getVilageFcst": "getVilageFcst",
    "/1360000/VilageFcstInfoService_2.0/getUltraSrtNcst": "getUltraSrtNcst",
}
GATEWAY_REASONS = {   # data.go.kr gateway returnReasonCode -> returnAuthMsg
    1: "APPLICATION_ERROR", 4: "HTTP_ERROR", 5: "SERVICETIMEOUT_ERROR",
    10: "INVALID_REQUEST_PARAMETER_ERROR", 11: "NO_MANDATORY_REQUEST_PARAMETERS_ERROR",
    12: "NO_OPENAPI_SERVICE_ERROR", 20: "SERVICE_ACCESS_DENIED_ERROR",
    22: "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR",
    30: "SERVICE_KEY_IS_NOT_REGISTERED_ERROR", 31: "DEADLINE_HAS_EXPIRED_ERROR",
    32: "UNREGISTERED_IP_ERROR", 99: "UNKNOWN_ERROR",
}
VILAGE_BASE_TIMES = ("0200", "0500", "0800", "1100", "1400", "1700", "2000", "2300")
VILAGE_CATEGORIES = ("TMP", "UUU", "VVV", "VEC", "WSD", "SKY", "PTY", "POP", "WAV", "PCP", "REH", "SNO")
NCST_CATEGORIES = ("PTY", "REH", "RN1", "T1H", "UUU", "VEC", "VVV", "WSD")

OM_UNITS = {
    "temperature_2m": "°C", "temperature_2m_mean": "°C", "temperature_2m_max": "°C",
    "temperature_2m_min": "°C", "precipitation": "mm", "precipitation_sum": "mm",
    "rain": "mm", "rain_sum": "mm", "snowfall": "cm", "snowfall_sum": "cm",
    "relative_humidity_2m": "%", "wind_speed_10m": "km/h",
    "precipitation_probability": "%", "precipitation_probability_max": "%",
}
OM_DAILY = {"archive": ("temperature_2m_mean", "temperature_2m_max", "temperature_2m_min",
                        "precipitation_sum", "rain_sum", "snowfall_sum")}
OM_DAILY["forecast"] = OM_DAILY["archive"] + ("precipitation_probability_max",)
OM_HOURLY = {"archive": ("temperature_2m", "precipitation", "rain", "snowfall",
                         "relative_humidity_2m", "wind_speed_10m")}
OM_HOURLY["forecast"] = OM_HOURLY["archive"] + ("precipitation_probability",)
OM_MIN_DATE = dt.date(1940, 1, 1)
OM_ARCHIVE_DELAY_DAYS = 2            # synthetic archive: values up to today - 2, then null
OM_MAX_FORECAST_DAYS = 16

# Synthetic Seongsu ridership: day-type levels and hour-of-day shares (per mille), the shares
# taken from the real 2024-11 CardSubwayTime row (boardings peak 18-19 h, alightings 8 h).
DAY_LEVELS = {"weekday": 44000, "saturday": 30500, "sunday": 22500, "holiday": 20500}
HOUR_W_ON = (2, 0, 0, 0, 0, 4, 6, 16, 22, 18, 17, 21, 29, 39, 50, 64, 83, 127, 194, 101, 81, 67, 43, 17)
HOUR_W_OFF = (4, 1, 0, 0, 0, 3, 23, 49, 169, 111, 67, 61, 62, 65, 64, 63, 60, 60, 59, 33, 17, 12, 10, 8)
SYNTH_FIRST_DAY = dt.date(2015, 1, 1)
SYNTH_HOLIDAYS = {(1, 1): "1월1일", (3, 1): "삼일절", (5, 5): "어린이날", (6, 6): "현충일",
                  (8, 15): "광복절", (10, 3): "개천절", (10, 9): "한글날", (12, 25): "기독탄신일"}

# The 606 synthesized other stations and where the real Seongsu row sits in a day's list.
N_OTHER_STATIONS = 606
SEONGSU_INDEX = 100                  # 0-based: Seongsu is row 101 of 607
SEONGSU_LINE, SEONGSU_NAME = "2호선", "성수"

FAULT_KINDS = ("latency", "http500", "hang", "truncate", "nodata", "xml_error", "quota",
               "seoul_error", "wrong_types", "float_counts", "string_counts", "missing_fields",
               "extra_fields", "duplicate_rows", "slow_drip", "endless_pages", "echo", "redirect")
DELAY_FAULTS = ("latency", "hang")
TRANSFORM_FAULTS = ("wrong_types", "float_counts", "string_counts", "missing_fields",
                    "extra_fields", "duplicate_rows")
TRANSPORT_FAULTS = ("truncate", "slow_drip")
RULE_KEYS = {"match", "fault", "times", "day", "ms", "mode", "code", "status", "chunk",
             "field", "row", "total", "for_ms", "pad", "to"}
ENDLESS_TOTAL = 99999999999          # endless_pages: the row count reported by default
ECHO_MODES = ("raw", "decoded", "form")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)

DailyWx = namedtuple("DailyWx", "mean tmin tmax precip rain snow")
HourWx = namedtuple("HourWx", "ta hm ws wd pa rn rain snow depth vs icsr")


# ----------------------------------------------------------------------------------------
# Small deterministic helpers
# ----------------------------------------------------------------------------------------

def unit(*parts):
    """Return a deterministic pseudo-random float in [0, 1) derived from ``parts``."""
    digest = hashlib.blake2b("|".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0 ** 64


def gauss(*parts):
    """Return a deterministic, roughly standard-normal number derived from ``parts``."""
    return (sum(unit(*parts, i) for i in range(4)) - 2.0) * math.sqrt(3.0)


def parse_day(text):
    """Parse 'YYYYMMDD' or 'YYYY-MM-DD' into a date; None when malformed."""
    text = (text or "").strip()
    try:
        if re.fullmatch(r"\d{8}", text):
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
    except ValueError:
        return None
    return None


def ymd(day):
    """Format a date as 'YYYYMMDD'."""
    return day.strftime("%Y%m%d")


def fnum(text):
    """Parse a CSV number that may be quoted, empty or float-looking; None when empty/bad."""
    text = (text or "").strip().strip('"')
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def inum(text):
    """Parse a CSV count such as '41537', '"11094.0"'; None when empty/bad."""
    value = fnum(text)
    return None if value is None else int(round(value))


def fmt1(x):
    """Format a number with one decimal, never printing '-0.0'."""
    return "%.1f" % (0.0 if abs(x) < 0.05 else x)


def day_of_year(day):
    """Return the 1-based day of the year."""
    return day.timetuple().tm_yday


def month_add(yyyymm, months):
    """Return the (year, month) that lies ``months`` after the 'YYYYMM' string."""
    idx = int(yyyymm[:4]) * 12 + int(yyyymm[4:6]) - 1 + months
    return idx // 12, idx % 12 + 1


def read_csv(path):
    """Read a UTF-8 (optionally BOM-prefixed) CSV file into a list of dicts."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def find_col(header, prefix):
    """Return the first column name of ``header`` that starts with ``prefix`` (or None)."""
    for name in header:
        if name and name.startswith(prefix):
            return name
    return None


# ----------------------------------------------------------------------------------------
# Real data files
# ----------------------------------------------------------------------------------------

class DataStore:
    """The real data files of ``--data DIR``, parsed once at start-up (read-only after)."""

    def __init__(self, root):
        """Load every file that exists under ``root``; missing files are simply skipped."""
        self.root = root
        self.daily = {}          # date -> (boardings, alightings, REG_YMD)
        self.monthly = {}        # 'YYYYMM' -> {"line", "station", "on": [24], "off": [24], "job"}
        self.kma = {}            # date -> DailyWx (KMA station 108)
        self.openmeteo = {}      # date -> DailyWx (Open-Meteo archive at Seongsu)
        self.uci = {}            # (date, hour) -> HourWx
        self.holiday_dir = os.path.join(root, "holidays", "kasi_getRestDeInfo")
        self._load_ridership()
        self._load_time()
        self._load_weather()

    def path(self, *parts):
        """Return the path of a data file, or None when it does not exist."""
        full = os.path.join(self.root, *parts)
        return full if os.path.isfile(full) else None

    def _load_ridership(self):
        """Load the Seongsu daily totals: the daily file first, then the monthly card files
        (whose known 등록일자 overrides the default REG_YMD = use date + 3 days)."""
        path = self.path("seongsu", "daily_2022-11_2025-05.csv")
        if path:
            for row in read_csv(path):
                day = parse_day(row.get("date"))
                on, off = inum(row.get("boardings")), inum(row.get("alightings"))
                if day and on is not None and off is not None and row.get("station") == SEONGSU_NAME:
                    self.daily[day] = (on, off, ymd(day + dt.timedelta(days=3)))
        for name in ("card_subway_month_2015-01_2021-07.csv",
                     "card_subway_month_2022-2024_selected_months.csv"):
            path = self.path("seongsu", name)
            if not path:
                continue
            for row in read_csv(path):
                day = parse_day((row.get("사용일자") or "").strip('"'))
                station = (row.get("역명") or "").strip('"')
                on, off = inum(row.get("승차총승객수")), inum(row.get("하차총승객수"))
                if not day or station != SEONGSU_NAME or on is None or off is None:
                    continue
                reg = (row.get("등록일자") or "").strip('"')
                if not re.fullmatch(r"\d{8}", reg):
                    reg = ymd(day + dt.timedelta(days=3))
                self.daily[day] = (on, off, reg)

    def _load_time(self):
        """Load the CardSubwayTime monthly hour sums (columns 'HH시-HH시 승차인원/하차인원')."""
        path = self.path("seongsu", "card_subway_time_2022-2024.csv")
        if not path:
            return
        for row in read_csv(path):
            month = (row.get("사용월") or "").strip()
            if not re.fullmatch(r"\d{6}", month):
                continue
            rec = {"line": row.get("호선명"), "station": row.get("지하철역"),
                   "on": [0] * 24, "off": [0] * 24, "job": (row.get("작업일자") or "").strip()}
            for col, val in row.items():
                m = re.match(r"(\d{2})시-\d{2}시 (승차|하차)인원", col or "")
                if m:
                    rec["on" if m.group(2) == "승차" else "off"][int(m.group(1)) % 24] = inum(val) or 0
            self.monthly[month] = rec

    def _load_weather(self):
        """Load KMA daily temperatures, the Open-Meteo daily archive and the UCI hourly file."""
        for name in ("kma_daily_temp_108_2011-01_2021-03.csv", "kma_daily_108_2024.csv"):
            path = self.path("weather", name)
            if not path:
                continue
            rows = read_csv(path)
            if not rows:
                continue
            header = list(rows[0].keys())
            c_day = find_col(header, "날짜") or find_col(header, "일시")
            c_mean, c_min = find_col(header, "평균기온"), find_col(header, "최저기온(")
            c_max, c_rain = find_col(header, "최고기온("), find_col(header, "강수량")
            for row in rows:
                day = parse_day(row.get(c_day))
                mean = fnum(row.get(c_mean))
                if day is None or mean is None:
                    continue
                precip = fnum(row.get(c_rain)) if c_rain else None
                self.kma[day] = DailyWx(mean, fnum(row.get(c_min)), fnum(row.get(c_max)),
                                        precip, None, None)
        path = self.path("weather", "openmeteo_daily_seongsu_2022-11_2025-05.csv")
        if path:
            for row in read_csv(path):
                day = parse_day(row.get("date"))
                if day:
                    self.openmeteo[day] = DailyWx(
                        fnum(row.get("temperature_2m_mean_c")), None, None,
                        fnum(row.get("precipitation_sum_mm")), fnum(row.get("rain_sum_mm")),
                        fnum(row.get("snowfall_sum_cm")))
        path = self.path("weather", "uci_seoulbike_hourly_2017-12_2018-11.csv")
        if path:
            for row in read_csv(path):
                day, hour, ta = parse_day(row.get("date_iso")), inum(row.get("Hour")), fnum(row.get("Temperature(C)"))
                if day is None or hour is None or ta is None:
                    continue
                rad = fnum(row.get("Solar Radiation (MJ/m2)")) or 0.0
                snow = fnum(row.get("Snowfall (cm)")) or 0.0
                rn = fnum(row.get("Rainfall(mm)")) or 0.0
                self.uci[(day, hour)] = HourWx(
                    ta, fnum(row.get("Humidity(percentage)")) or 0.0,
                    fnum(row.get("Wind speed (m/s)")) or 0.0,
                    synth_wind_dir(day, hour), synth_pressure(day, hour), rn, rn, snow, snow,
                    inum(row.get("Visibility (10m)")) or 2000, rad if rad > 0 else None)


# ----------------------------------------------------------------------------------------
# Synthetic models (pure functions of the date, so every run gives the same bytes)
# ----------------------------------------------------------------------------------------

def synth_is_holiday(day):
    """Synthetic holiday calendar: the fixed-date solar holidays only."""
    return (day.month, day.day) in SYNTH_HOLIDAYS


def synth_day_kind(day):
    """Classify a day as 'holiday', 'sunday', 'saturday' or 'weekday'."""
    if synth_is_holiday(day):
        return "holiday"
    return {5: "saturday", 6: "sunday"}.get(day.weekday(), "weekday")


@functools.lru_cache(maxsize=16384)
def synth_seongsu(day):
    """Synthetic Seongsu (boardings, alightings) for a day: day-type level, Monday/Friday
    nuance, gentle seasonal drift (peaks May/Nov), 3 %/year growth and ±3 % noise."""
    kind = synth_day_kind(day)
    level = DAY_LEVELS[kind]
    if kind == "weekday":
        level *= {0: 0.98, 4: 1.04}.get(day.weekday(), 1.0)
    season = 1.0 + 0.035 * math.cos(4.0 * math.pi * (day_of_year(day) - 125) / 365.25)
    growth = 1.03 ** ((day - dt.date(2023, 1, 1)).days / 365.25)
    noise = 1.0 + 0.06 * (unit("ride-on", day) - 0.5)
    on = int(round(level * season * growth * noise))
    off = int(round(on * (1.085 + 0.03 * (unit("ride-off", day) - 0.5))))
    return on, off


def synth_wind_dir(day, hour):
    """Deterministic wind direction in degrees (multiples of 10)."""
    return int(unit("wd", day, hour) * 36) * 10


def synth_pressure(day, hour):
    """Deterministic local station pressure (hPa), higher in winter."""
    season = math.cos(2 * math.pi * (day_of_year(day) - 15) / 365.25)
    return round(1006.0 + 9.0 * season + 3.0 * gauss("pa", day) + 0.8 * math.sin(2 * math.pi * hour / 12), 1)


@functools.lru_cache(maxsize=16384)
def climate_daily(day):
    """Synthetic Seoul climatology for one day: mean/min/max temperature, precipitation,
    rain and snowfall, with deterministic day-to-day noise."""
    doy = day_of_year(day)
    mean = 12.8 - 14.6 * math.cos(2 * math.pi * (doy - 20) / 365.25) + 2.2 * gauss("clim-t", day)
    amp = 4.2 + 1.2 * math.sin(2 * math.pi * (doy - 60) / 365.25)
    summer = max(0.0, math.sin(2 * math.pi * (doy - 110) / 365.25))
    precip = 0.0
    if unit("clim-wet", day) < 0.18 + 0.32 * summer:
        precip = round(0.3 - math.log(1.0 - unit("clim-amt", day)) * (3.0 + 12.0 * summer), 1)
    rain, snow = precip, 0.0
    if precip and mean < 0:
        rain, snow = 0.0, round(precip * 0.7, 2)
    elif precip and mean < 2:
        rain, snow = round(precip / 2, 1), round(precip * 0.35, 2)
    return DailyWx(round(mean, 1), round(mean - amp, 1), round(mean + amp, 1), precip, rain, snow)


@functools.lru_cache(maxsize=4096)
def distribute(total, hours, start, digits):
    """Split ``total`` over ``hours`` consecutive hours from ``start`` so that the 24 values,
    rounded to ``digits`` decimals, add up exactly to the rounded total."""
    scale = 10 ** digits
    units = int(round((total or 0.0) * scale))
    out = [0] * 24
    if units > 0:
        base, rem = divmod(units, hours)
        for i in range(hours):
            out[start + i] = base + (1 if i < rem else 0)
    return tuple(round(u / scale, digits) for u in out)


def wet_hours(day, precip):
    """Return (number of wet hours, first wet hour) for a day's precipitation."""
    hours = max(1, min(24, int(math.ceil((precip or 0.0) / 2.0))))
    start = int(unit("wet-start", day) * (24 - hours + 1))
    return hours, start


def hour_from_daily(day, hour, w):
    """Derive one hour of weather from daily values: a cosine diurnal cycle (warmest 15 h)
    that keeps the daily mean, precipitation spread so that the hours sum to the day."""
    amp = (w.tmax - w.tmin) / 2.0 if (w.tmax is not None and w.tmin is not None) else 4.0
    mean = w.mean
    if mean is None and w.tmax is not None and w.tmin is not None:
        mean = (w.tmax + w.tmin) / 2.0
    if mean is None:
        return None
    ta = mean + amp * math.cos(2 * math.pi * (hour - 15) / 24.0)
    n, start = wet_hours(day, w.precip)
    rn = distribute(w.precip or 0.0, n, start, 1)[hour]
    rain = distribute(w.rain if w.rain is not None else (w.precip or 0.0), n, start, 1)[hour]
    snow_hours = distribute(w.snow or 0.0, n, start, 2)
    depth = round(sum(snow_hours[:hour + 1]), 2)
    doy = day_of_year(day)
    hm = 58 + 12 * math.sin(2 * math.pi * (doy - 110) / 365.25) + 14 * math.cos(2 * math.pi * (hour - 5) / 24.0)
    hm = min(99.0, max(15.0, hm + (25 if rn > 0 else 0) + 5 * gauss("hm", day, hour)))
    ws = max(0.0, 1.9 + 0.9 * math.sin(2 * math.pi * (hour - 9) / 24.0) + 0.5 * gauss("ws", day, hour))
    icsr = None
    if 7 <= hour <= 18:
        icsr = round(max(0.01, 2.2 * math.sin(math.pi * (hour - 6) / 13.0) * (0.4 if rn > 0 else 1.0)), 2)
    return HourWx(round(ta, 1), float(int(round(hm))), round(ws, 1), synth_wind_dir(day, hour),
                  synth_pressure(day, hour), rn, rain, snow_hours[hour], depth,
                  600 if rn > 0 else 2000, icsr)


def pcp_text(mm):
    """Format a 1-hour precipitation amount the way the KMA short-term forecast does."""
    if mm <= 0:
        return "강수없음"
    if mm < 1.0:
        return "1mm 미만"
    if mm < 30.0:
        return "%.1fmm" % mm
    if mm < 50.0:
        return "30.0~50.0mm"
    return "50.0mm 이상"


def sno_text(cm):
    """Format a 1-hour snowfall amount the way the KMA short-term forecast does."""
    if cm <= 0:
        return "적설없음"
    if cm < 1.0:
        return "1cm 미만"
    if cm < 5.0:
        return "%.1fcm" % cm
    return "5.0cm 이상"


@functools.lru_cache(maxsize=1)
def other_stations():
    """The synthesized other stations: (line, name, scale) for 역001..역606, lines 1..9
    in blocks; the scale multiplies the Seongsu counts."""
    out = []
    for i in range(N_OTHER_STATIONS):
        line = "%d호선" % (1 + i * 9 // N_OTHER_STATIONS)
        scale = round(0.05 + 1.95 * unit("scale", i) ** 1.5, 4)
        out.append((line, "역%03d" % (i + 1), scale))
    return tuple(out)


# ----------------------------------------------------------------------------------------
# The world: what data exist for a day, in data or synthetic mode
# ----------------------------------------------------------------------------------------

class World:
    """Answers the domain questions of every route, from the files or synthetically."""

    def __init__(self, store, synthetic, today=None, delay_days=3):
        """``store`` is a DataStore (or None); ``today`` pins the KST date (None = clock)."""
        self.store = store
        self.synthetic = synthetic or store is None
        self.pinned_today = today
        self.delay_days = delay_days

    def today(self):
        """Current KST date (or the one pinned with --today)."""
        return self.pinned_today or dt.datetime.now(KST).date()

    def seongsu_day(self, day):
        """(boardings, alightings, REG_YMD) of Seongsu for ``day`` or None (no data yet/ever)."""
        if day > self.today() - dt.timedelta(days=self.delay_days):
            return None
        if self.synthetic:
            if day < SYNTH_FIRST_DAY:
                return None
            on, off = synth_seongsu(day)
            return on, off, ymd(day + dt.timedelta(days=3))
        return self.store.daily.get(day)

    def seongsu_month(self, yyyymm):
        """Monthly hour sums {"on": [24], "off": [24], "job", "line", "station"} or None."""
        if self.synthetic:
            try:
                first = dt.date(int(yyyymm[:4]), int(yyyymm[4:6]), 1)
            except ValueError:
                return None
            ny, nm = month_add(yyyymm, 1)
            job = dt.date(ny, nm, 3)
            if first < SYNTH_FIRST_DAY or job > self.today():
                return None
            tot_on = tot_off = 0
            day = first
            while day.month == first.month:
                on, off = synth_seongsu(day)
                tot_on, tot_off = tot_on + on, tot_off + off
                day += dt.timedelta(days=1)
            return {"line": SEONGSU_LINE, "station": SEONGSU_NAME, "job": ymd(job),
                    "on": [int(round(tot_on * w / sum(HOUR_W_ON))) for w in HOUR_W_ON],
                    "off": [int(round(tot_off * w / sum(HOUR_W_OFF))) for w in HOUR_W_OFF]}
        rec = self.store.monthly.get(yyyymm)
        if rec and rec["job"] and rec["job"] > ymd(self.today()):
            return None
        return rec

    def holidays_json(self, year, month):
        """The KASI getRestDeInfo answer for a month: (raw bytes or None, object) or None."""
        if self.synthetic:
            if not 2000 <= year <= 2099:
                return None
            items = []
            for (mo, dd), name in sorted(SYNTH_HOLIDAYS.items()):
                if mo == month:
                    items.append({"dateKind": "01", "dateName": name, "isHoliday": "Y",
                                  "locdate": year * 10000 + mo * 100 + dd, "seq": 1})
            body_items = "" if not items else {"item": items[0] if len(items) == 1 else items}
            obj = {"response": {"header": {"resultCode": "00", "resultMsg": "NORMAL SERVICE."},
                                "body": {"items": body_items, "numOfRows": 100, "pageNo": 1,
                                         "totalCount": len(items)}}}
            return None, obj
        path = os.path.join(self.store.holiday_dir, "%04d" % year, "%02d.json" % month)
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as fh:
            raw = fh.read()
        return raw, json.loads(raw.decode("utf-8"))

    def obs_daily(self, day):
        """Observed daily weather at KMA 108 (KMA files first, Open-Meteo fills gaps) or None."""
        if self.synthetic:
            return climate_daily(day) if day < self.today() else None
        kma, om = self.store.kma.get(day), self.store.openmeteo.get(day)
        if kma is None and om is None:
            return None
        if kma is None:
            return om
        if om is None:
            return kma
        precip = kma.precip if kma.precip is not None else om.precip
        return DailyWx(kma.mean, kma.tmin, kma.tmax, precip, om.rain if precip == om.precip else precip,
                       om.snow)

    def obs_hour_known(self, day, hour):
        """True when an ASOS observation can be served for that hour."""
        if self.synthetic:
            return day < self.today()
        return (day, hour) in self.store.uci or self.obs_daily(day) is not None

    def obs_hour(self, day, hour):
        """ASOS-like observation for an hour (UCI file where it covers, else derived from the
        daily files) or None."""
        if not self.synthetic and (day, hour) in self.store.uci:
            return self.store.uci[(day, hour)]
        w = self.obs_daily(day)
        return hour_from_daily(day, hour, w) if w else None

    def truth_hour(self, day, hour):
        """The 'real' weather of an hour used to make forecasts: observation or climatology."""
        w = None if self.synthetic else self.obs_hour(day, hour)
        return w or hour_from_daily(day, hour, climate_daily(day))

    def om_daily(self, day):
        """Open-Meteo archive daily values for a day (None = null in the answer)."""
        if self.synthetic:
            if day > self.today() - dt.timedelta(days=OM_ARCHIVE_DELAY_DAYS):
                return None
            return climate_daily(day)
        om = self.store.openmeteo.get(day)
        if om is None or om.mean is None:
            return om
        kma = self.store.kma.get(day)      # borrow the KMA amplitude when that day has one
        if kma and kma.tmin is not None and kma.tmax is not None:
            half = (kma.tmax - kma.tmin) / 2.0
            return om._replace(tmin=round(om.mean - half, 1), tmax=round(om.mean + half, 1))
        return om

    def forecast_hour(self, issued, day, hour, salt=""):
        """Deterministic forecast of an hour issued on ``issued``: truth + error growing with lead."""
        w = self.truth_hour(day, hour)
        lead = max(0, (day - issued).days)
        err = gauss("fc-day", day, issued, salt) * (0.4 + 0.15 * lead) + 0.3 * gauss("fc-h", day, hour, issued, salt)
        rn = w.rn
        if rn > 0 and unit("fc-miss", day, hour, issued, salt) < 0.04 * lead:
            rn = 0.0
        rn = round(rn * (1.0 + 0.2 * gauss("fc-rn", day, hour, issued, salt)), 1) if rn > 0 else 0.0
        ta = round(w.ta + err, 1)
        snow = round(rn * 0.7, 2) if (rn > 0 and ta <= 0.5) else 0.0
        rain = rn if snow == 0 else 0.0
        pop = (60 + 10 * int(unit("pop", day, hour, issued, salt) * 4)) if rn > 0 else \
            10 * int(unit("pop", day, hour, issued, salt) * 4)
        return {"ta": ta, "rn": rn, "rain": rain, "snow": snow, "hm": w.hm, "ws": w.ws,
                "wd": w.wd, "pop": pop}


# ----------------------------------------------------------------------------------------
# Response payloads (kept as objects so that faults can edit them before serialization)
# ----------------------------------------------------------------------------------------

class Payload:
    """A response body in object form plus what the transform faults need to know."""

    def __init__(self, obj, fmt="json", status=200, family="", rows=None, target=0,
                 numeric=None, required=None, columns=None, raw=None, writeback=None,
                 indent=None, ctype=None, headers=None):
        """``rows``: the list of row dicts inside ``obj`` (None for error bodies);
        ``numeric``: predicate telling which row fields are counts/values;
        ``columns``: Open-Meteo sections ({'time': [...], var: [...]}) instead of rows;
        ``raw``: verbatim bytes served when no fault edits the object;
        ``headers``: extra response headers (a redirect's Location)."""
        self.obj, self.fmt, self.status, self.family = obj, fmt, status, family
        self.rows, self.target, self.numeric, self.required = rows, target, numeric, required
        self.columns, self.raw, self.writeback, self.indent = columns, raw, writeback, indent
        self.ctype, self.headers = ctype, headers or {}

    def render(self):
        """Serialize to (status, content type, body bytes)."""
        if self.fmt == "raw":
            return self.status, self.ctype, self.obj
        if self.fmt == "xml":
            ctype = self.ctype or "text/xml;charset=UTF-8"
            return self.status, ctype, to_xml(self.obj).encode("utf-8")
        ctype = self.ctype or "application/json;charset=UTF-8"
        if self.raw is not None:
            return self.status, ctype, self.raw
        if self.indent:
            text = json.dumps(self.obj, ensure_ascii=False, indent=self.indent)
        else:
            text = json.dumps(self.obj, ensure_ascii=False, separators=(",", ":"))
        return self.status, ctype, text.encode("utf-8")


def to_xml(obj):
    """Render a JSON-like object as XML the way these services do: dict keys become
    elements, a list repeats its parent element, '' and None become empty elements."""
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>']

    def emit(name, value):
        """Append the XML of one named value."""
        if isinstance(value, list):
            for item in value:
                emit(name, item)
        elif isinstance(value, dict):
            out.append("<%s>" % name)
            for key, sub in value.items():
                emit(key, sub)
            out.append("</%s>" % name)
        elif value is None or value == "":
            out.append("<%s/>" % name)
        else:
            out.append("<%s>%s</%s>" % (name, xml_escape(str(value)), name))

    for key, value in obj.items():
        emit(key, value)
    return "".join(out)


def raw_payload(status, ctype, body):
    """A payload that is already bytes (HTML error pages, gateway XML)."""
    return Payload(body, fmt="raw", status=status, ctype=ctype)


def seoul_result(code, fmt="json"):
    """The bare Seoul error/no-data body {"RESULT": {"CODE", "MESSAGE"}} (HTTP 200)."""
    msg = SEOUL_MESSAGES.get(code, "오류가 발생하였습니다.")
    return Payload({"RESULT": {"CODE": code, "MESSAGE": msg}}, fmt=fmt, family="seoul")


def gateway_xml(code=30):
    """The data.go.kr gateway XML error (served with HTTP 200 even when JSON was asked)."""
    code = int(code)
    auth = GATEWAY_REASONS.get(code, "UNKNOWN_ERROR")
    body = ("<OpenAPI_ServiceResponse><cmmMsgHeader><errMsg>SERVICE ERROR</errMsg>"
            "<returnAuthMsg>%s</returnAuthMsg><returnReasonCode>%d</returnReasonCode>"
            "</cmmMsgHeader></OpenAPI_ServiceResponse>" % (auth, code))
    return raw_payload(200, "text/xml;charset=UTF-8", body.encode("utf-8"))


def kma_error(code, msg, fmt="json"):
    """A data.go.kr (KMA) header-only answer such as resultCode 03 NO_DATA."""
    return Payload({"response": {"header": {"resultCode": code, "resultMsg": msg}}}, fmt=fmt,
                   family="datagokr")


def kasi_nodata(fmt="json", rows=10):
    """The KASI answer for a month it does not know: resultCode 03 and an empty body."""
    obj = {"response": {"header": {"resultCode": "03", "resultMsg": "NODATA_ERROR"},
                        "body": {"items": "", "numOfRows": rows, "pageNo": 1, "totalCount": 0}}}
    return Payload(obj, fmt=fmt, family="datagokr")


def om_error(reason, status=400):
    """An Open-Meteo error: HTTP 400 {"error": true, "reason": ...}."""
    return Payload({"error": True, "reason": reason}, status=status, family="openmeteo",
                   ctype="application/json; charset=utf-8")


def html_error(status):
    """A gateway-style HTML error page."""
    text = "<html><head><title>%d Error</title></head><body><h1>%d Internal Server Error</h1></body></html>" % (status, status)
    return raw_payload(status, "text/html;charset=UTF-8", text.encode("utf-8"))


# ----------------------------------------------------------------------------------------
# Seoul Open Data routes
# ----------------------------------------------------------------------------------------

def seoul_route(world, cfg, segs):
    """Answer /{KEY}/{TYPE}/{SERVICE}/{START}/{END}/{ARGS...} with the Seoul envelope."""
    key, typ, service, args = segs[1], segs[2].lower(), segs[3], segs[4:]
    if typ not in ("json", "xml"):
        return seoul_result("ERROR-301")
    fmt = typ
    if key not in (cfg.seoul_key, SEOUL_SAMPLE_KEY):
        return seoul_result("INFO-100", fmt)
    if service not in SEOUL_SERVICES:
        return seoul_result("ERROR-310", fmt)
    if len(args) < 2 or args[0] == "" or args[1] == "":
        return seoul_result("ERROR-300", fmt)
    if not (args[0].isdigit() and args[1].isdigit()):
        return seoul_result("ERROR-333", fmt)
    start, end = int(args[0]), int(args[1])
    if start < 1:
        return seoul_result("ERROR-331", fmt)
    if end < 1:
        return seoul_result("ERROR-332", fmt)
    if start > end:
        return seoul_result("ERROR-334", fmt)
    if end - start + 1 > SEOUL_MAX_ROWS:
        return seoul_result("ERROR-336", fmt)
    if key == SEOUL_SAMPLE_KEY and end > 5:
        return seoul_result("ERROR-335", fmt)
    if len(args) < 3 or args[2].strip() == "":
        return seoul_result("ERROR-300", fmt)
    if service == "CardSubwayStatsNew":
        rows, numeric, required = stats_rows(world, args[2]), \
            (lambda k: k in ("GTON_TNOPE", "GTOFF_TNOPE")), "GTON_TNOPE"
    else:
        line = unquote(args[3]).strip() if len(args) > 3 else ""
        station = unquote(args[4]).strip() if len(args) > 4 else ""
        rows, numeric, required = time_rows(world, args[2], line, station), \
            (lambda k: k.startswith("HR_")), "HR_8_GET_ON_NOPE"
    if not rows or start > len(rows):
        return seoul_result("INFO-200", fmt)
    page = rows[start - 1:end]
    target = 0
    for i, row in enumerate(page):
        if row.get("SBWY_STNS_NM", row.get("STTN")) == SEONGSU_NAME:
            target = i
            break
    obj = {service: {"list_total_count": len(rows),
                     "RESULT": {"CODE": "INFO-000", "MESSAGE": SEOUL_MESSAGES["INFO-000"]},
                     "row": page}}
    return Payload(obj, fmt=fmt, family="seoul", rows=page, target=target, numeric=numeric,
                   required=required)


def stats_rows(world, day_text):
    """All ~607 CardSubwayStatsNew rows of a day (Seongsu real/synthetic + 606 others)."""
    day = parse_day(day_text) if re.fullmatch(r"\d{8}", day_text) else None
    rec = world.seongsu_day(day) if day else None
    if rec is None:
        return []
    on, off, reg = rec
    use = ymd(day)
    rows = []
    for i, (line, name, scale) in enumerate(other_stations()):
        if i == SEONGSU_INDEX:
            rows.append({"USE_YMD": use, "SBWY_ROUT_LN_NM": SEONGSU_LINE, "SBWY_STNS_NM": SEONGSU_NAME,
                         "GTON_TNOPE": on, "GTOFF_TNOPE": off, "REG_YMD": reg})
        n_on = 1.0 + 0.16 * (unit("st-on", name, use) - 0.5)
        n_off = 1.0 + 0.16 * (unit("st-off", name, use) - 0.5)
        rows.append({"USE_YMD": use, "SBWY_ROUT_LN_NM": line, "SBWY_STNS_NM": name,
                     "GTON_TNOPE": int(round(on * scale * n_on)),
                     "GTOFF_TNOPE": int(round(off * scale * n_off)), "REG_YMD": reg})
    return rows


def time_rows(world, month, line="", station=""):
    """CardSubwayTime rows of a month (Seongsu + 606 others), optionally filtered; fresh
    dict copies of a cached month so that faults may edit them."""
    rec = world.seongsu_month(month) if re.fullmatch(r"\d{6}", month) else None
    if rec is None:
        return []
    key = (month, tuple(rec["on"]), tuple(rec["off"]), rec["job"], rec.get("line"), rec.get("station"))
    rows = [dict(r) for r in time_rows_all(key)]
    if line:
        rows = [r for r in rows if r["SBWY_ROUT_LN_NM"] == line]
    if station:
        rows = [r for r in rows if r["STTN"] == station]
    return rows


@functools.lru_cache(maxsize=64)
def time_rows_all(key):
    """Build (once per month) every CardSubwayTime row from the Seongsu hour sums in ``key``."""
    month, on, off, job, seongsu_line, seongsu_station = key
    rec = {"on": on, "off": off, "job": job}
    rows = []

    def make(line_name, st_name, scale):
        """Build one CardSubwayTime row scaled from the Seongsu hour sums."""
        row = {"USE_MM": month, "SBWY_ROUT_LN_NM": line_name, "STTN": st_name}
        for h in range(24):
            for kind, label in (("on", "GET_ON"), ("off", "GET_OFF")):
                value = rec[kind][h]
                if scale is not None:
                    value = int(round(value * scale * (1.0 + 0.16 * (unit("tm", st_name, month, h, kind) - 0.5))))
                row["HR_%d_%s_NOPE" % (h, label)] = value
        row["JOB_YMD"] = rec["job"]
        return row

    for i, (line_name, name, scale) in enumerate(other_stations()):
        if i == SEONGSU_INDEX:
            rows.append(make(seongsu_line or SEONGSU_LINE, seongsu_station or SEONGSU_NAME, None))
        rows.append(make(line_name, name, scale))
    return tuple(rows)


# ----------------------------------------------------------------------------------------
# data.go.kr routes
# ----------------------------------------------------------------------------------------

def dgk_key_ok(cfg, raw_query):
    """True when the serviceKey query parameter (raw or %-decoded) equals the configured key."""
    for pair in raw_query.split("&"):
        name, _, value = pair.partition("=")
        if name.lower() == "servicekey" and cfg.data_go_kr_key in (value, unquote(value)):
            return True
    return False


def kma_page(items, q, fmt, default_rows=10, max_rows=None):
    """Slice ``items`` by pageNo/numOfRows into the standard KMA envelope."""
    try:
        page = int(q.get("pageNo", "1") or "1")
        rows = int(q.get("numOfRows", str(default_rows)) or str(default_rows))
    except ValueError:
        return kma_error("10", "INVALID_REQUEST_PARAMETER_ERROR", fmt)
    if page < 1 or rows < 1 or (max_rows and rows > max_rows):
        return kma_error("10", "INVALID_REQUEST_PARAMETER_ERROR", fmt)
    chunk = items[(page - 1) * rows: page * rows]
    if not chunk:
        return kma_error("03", "NO_DATA", fmt)
    obj = {"response": {"header": {"resultCode": "00", "resultMsg": "NORMAL_SERVICE"},
                        "body": {"dataType": fmt.upper(), "items": {"item": chunk},
                                 "pageNo": page, "numOfRows": rows, "totalCount": len(items)}}}
    return Payload(obj, fmt=fmt, family="datagokr", rows=chunk)


def kasi_route(world, q, fmt):
    """getRestDeInfo: the real monthly file verbatim (or the synthetic calendar)."""
    year, month = q.get("solYear", ""), q.get("solMonth", "")
    if not year or not month:
        return kma_error("11", "NO_MANDATORY_REQUEST_PARAMETERS_ERROR", fmt)
    if not (re.fullmatch(r"\d{4}", year) and re.fullmatch(r"\d{1,2}", month) and 1 <= int(month) <= 12):
        return kma_error("10", "INVALID_REQUEST_PARAMETER_ERROR", fmt)
    found = world.holidays_json(int(year), int(month))
    if found is None:
        return kasi_nodata(fmt, int(q.get("numOfRows", "10")) if q.get("numOfRows", "").isdigit() else 10)
    raw, obj = found
    items = obj.get("response", {}).get("body", {}).get("items")
    rows, was_list = [], True
    if isinstance(items, dict) and "item" in items:
        was_list = isinstance(items["item"], list)
        rows = items["item"] if was_list else [items["item"]]

    def writeback(new_rows):
        """Put the edited rows back, keeping the single-object quirk when it still fits."""
        if isinstance(items, dict):
            items["item"] = new_rows if (was_list or len(new_rows) != 1) else new_rows[0]

    return Payload(obj, fmt=fmt, family="datagokr", rows=rows or None,
                   numeric=lambda k: k in ("locdate", "seq"), required="locdate",
                   raw=raw if fmt == "json" else None, writeback=writeback,
                   indent=None if raw is not None else "\t")


def asos_item(rnum, day, hour, w):
    """One getWthrDataList item: every value a string, '' for none."""
    gamma = 17.27 * w.ta / (237.7 + w.ta) + math.log(max(w.hm, 1.0) / 100.0)
    td = 237.7 * gamma / (17.27 - gamma)
    pv = 6.112 * math.exp(17.67 * td / (td + 243.5))
    return {"tm": "%s %02d:00" % (day.isoformat(), hour), "rnum": str(rnum), "stnId": "108",
            "stnNm": "서울", "ta": fmt1(w.ta), "taQcflg": "", "rn": fmt1(w.rn) if w.rn > 0 else "",
            "rnQcflg": "", "ws": fmt1(w.ws), "wsQcflg": "", "wd": str(w.wd), "wdQcflg": "",
            "hm": str(int(round(w.hm))), "hmQcflg": "", "pv": fmt1(pv), "td": fmt1(td),
            "pa": fmt1(w.pa), "paQcflg": "", "ps": fmt1(w.pa + 10.2), "psQcflg": "",
            "ss": "" if w.icsr is None else fmt1(min(1.0, w.icsr / 2.0)),
            "icsr": "" if w.icsr is None else "%.2f" % w.icsr,
            "dsnw": fmt1(w.depth) if w.depth and w.depth >= 0.05 else "", "hr3Fhsc": "",
            "vs": str(w.vs)}


def asos_route(world, q, fmt):
    """getWthrDataList: hourly observations of station 108, paged (numOfRows <= 999)."""
    need = ("startDt", "startHh", "endDt", "endHh", "stnIds")
    if any(not q.get(k) for k in need):
        return kma_error("11", "NO_MANDATORY_REQUEST_PARAMETERS_ERROR", fmt)
    d0, d1 = parse_day(q["startDt"]), parse_day(q["endDt"])
    if (not re.fullmatch(r"\d{8}", q["startDt"]) or not re.fullmatch(r"\d{8}", q["endDt"]) or
            d0 is None or d1 is None or not q["startHh"].isdigit() or not q["endHh"].isdigit()):
        return kma_error("10", "INVALID_REQUEST_PARAMETER_ERROR", fmt)
    h0, h1 = int(q["startHh"]), int(q["endHh"])
    if h0 > 23 or h1 > 23 or (q.get("dataCd") not in (None, "", "ASOS")) or \
            (q.get("dateCd") not in (None, "", "HR")):
        return kma_error("10", "INVALID_REQUEST_PARAMETER_ERROR", fmt)
    t0 = dt.datetime(d0.year, d0.month, d0.day, h0)
    t1 = dt.datetime(d1.year, d1.month, d1.day, h1)
    if t0 > t1:
        return kma_error("10", "INVALID_REQUEST_PARAMETER_ERROR", fmt)
    if d1 >= world.today():
        return kma_error("99", "전날 자료까지 제공됩니다.", fmt)
    if q["stnIds"] != "108":
        return kma_error("03", "NO_DATA", fmt)
    hours = []
    t = t0
    while t <= t1:
        if world.obs_hour_known(t.date(), t.hour):
            hours.append(t)
        t += dt.timedelta(hours=1)
    if not hours:
        return kma_error("03", "NO_DATA", fmt)
    payload = kma_page(hours, q, fmt, default_rows=10, max_rows=999)
    if payload.rows:
        first = (int(payload.obj["response"]["body"]["pageNo"]) - 1) * payload.obj["response"]["body"]["numOfRows"]
        items = [asos_item(first + i + 1, t.date(), t.hour, world.obs_hour(t.date(), t.hour))
                 for i, t in enumerate(payload.rows)]
        payload.obj["response"]["body"]["items"]["item"] = items
        payload.rows, payload.required = items, "ta"
        payload.numeric = lambda k: k in ("ta", "rn", "ws", "wd", "hm", "pv", "td", "pa", "ps", "dsnw")
    return payload


def grid_params(q, fmt):
    """Validate base_date/base_time/nx/ny; return (base datetime, nx, ny) or an error payload."""
    need = ("base_date", "base_time", "nx", "ny")
    if any(not q.get(k) for k in need):
        return kma_error("11", "NO_MANDATORY_REQUEST_PARAMETERS_ERROR", fmt)
    day = parse_day(q["base_date"])
    if (day is None or not re.fullmatch(r"\d{8}", q["base_date"]) or
            not re.fullmatch(r"\d{4}", q["base_time"]) or not q["nx"].isdigit() or not q["ny"].isdigit()):
        return kma_error("10", "INVALID_REQUEST_PARAMETER_ERROR", fmt)
    hh, mm = int(q["base_time"][:2]), int(q["base_time"][2:])
    if hh > 23 or mm > 59:
        return kma_error("10", "INVALID_REQUEST_PARAMETER_ERROR", fmt)
    return dt.datetime(day.year, day.month, day.day, hh, mm), int(q["nx"]), int(q["ny"])


def vilage_route(world, q, fmt):
    """getVilageFcst: hourly forecast items from base time + 1 h to day + 3, 23 h."""
    parsed = grid_params(q, fmt)
    if isinstance(parsed, Payload):
        return parsed
    base, nx, ny = parsed
    if q["base_time"] not in VILAGE_BASE_TIMES:
        return kma_error("10", "INVALID_REQUEST_PARAMETER_ERROR", fmt)
    if base.date() > world.today():
        return kma_error("03", "NO_DATA", fmt)
    salt = "%s%s/%d/%d" % (q["base_date"], q["base_time"], nx, ny)
    issued = base.date()
    daily_tmp = {}
    items = []
    t = base + dt.timedelta(hours=1)
    end = dt.datetime.combine(base.date() + dt.timedelta(days=3), dt.time(23))
    while t <= end:
        f = world.forecast_hour(issued, t.date(), t.hour, salt)
        pty = 0
        if f["rn"] > 0:
            pty = 3 if f["ta"] <= -1 else (2 if f["ta"] <= 1 else 1)
        sky = 4 if f["rn"] > 0 else (1, 3, 4)[int(unit("sky", t, salt) * 3)]
        rad = math.radians(f["wd"])
        values = {"TMP": str(int(round(f["ta"]))), "UUU": fmt1(-f["ws"] * math.sin(rad)),
                  "VVV": fmt1(-f["ws"] * math.cos(rad)), "VEC": str(f["wd"]), "WSD": fmt1(f["ws"]),
                  "SKY": str(sky), "PTY": str(pty), "POP": str(f["pop"]), "WAV": "0",
                  "PCP": pcp_text(f["rn"]), "REH": str(int(round(f["hm"]))),
                  "SNO": sno_text(f["snow"] if pty in (2, 3) else 0.0)}
        for cat in VILAGE_CATEGORIES:
            items.append(fcst_item(q, t, cat, values[cat], nx, ny))
        if t.hour in (6, 15):
            key = t.date()
            if key not in daily_tmp:
                temps = [world.forecast_hour(issued, key, h, salt)["ta"] for h in range(24)]
                daily_tmp[key] = (min(temps), max(temps))
            cat, value = ("TMN", daily_tmp[key][0]) if t.hour == 6 else ("TMX", daily_tmp[key][1])
            items.append(fcst_item(q, t, cat, fmt1(round(value)), nx, ny))
        t += dt.timedelta(hours=1)
    payload = kma_page(items, q, fmt, default_rows=10)
    if payload.rows is not None:
        payload.numeric, payload.required = (lambda k: k in ("fcstValue", "nx", "ny")), "fcstValue"
    return payload


def fcst_item(q, t, category, value, nx, ny):
    """One getVilageFcst item (nx/ny are numbers, everything else strings)."""
    return {"baseDate": q["base_date"], "baseTime": q["base_time"], "category": category,
            "fcstDate": ymd(t.date()), "fcstTime": "%02d00" % t.hour, "fcstValue": value,
            "nx": nx, "ny": ny}


def ncst_route(world, q, fmt):
    """getUltraSrtNcst: the 'current weather' of the base hour (observation, no error)."""
    parsed = grid_params(q, fmt)
    if isinstance(parsed, Payload):
        return parsed
    base, nx, ny = parsed
    if base.date() > world.today():
        return kma_error("03", "NO_DATA", fmt)
    w = world.truth_hour(base.date(), base.hour)
    pty = 0 if w.rn <= 0 else (3 if w.ta <= -1 else (2 if w.ta <= 1 else 1))
    rad = math.radians(w.wd)
    values = {"PTY": str(pty), "REH": str(int(round(w.hm))), "RN1": fmt1(w.rn) if w.rn > 0 else "0",
              "T1H": fmt1(w.ta), "UUU": fmt1(-w.ws * math.sin(rad)), "VEC": str(w.wd),
              "VVV": fmt1(-w.ws * math.cos(rad)), "WSD": fmt1(w.ws)}
    items = [{"baseDate": q["base_date"], "baseTime": q["base_time"], "category": c, "nx": nx,
              "ny": ny, "obsrValue": values[c]} for c in NCST_CATEGORIES]
    payload = kma_page(items, q, fmt, default_rows=10)
    if payload.rows is not None:
        payload.numeric, payload.required = (lambda k: k in ("obsrValue", "nx", "ny")), "obsrValue"
    return payload


# ----------------------------------------------------------------------------------------
# Open-Meteo routes
# ----------------------------------------------------------------------------------------

def om_vars(q, key, allowed):
    """Split the comma lists of ``daily=``/``hourly=``; return (names, error reason)."""
    names = []
    for value in q.get_all(key):
        for name in value.split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    for name in names:
        if name not in allowed:
            return None, "Cannot initialize %s from invalid String value %s." % (
                "WeatherVariable" if key == "hourly" else "DailyWeatherVariable", name)
    return names, None


def om_route(world, kind, q):
    """/v1/archive and /v1/forecast: column arrays of the requested variables only."""
    try:
        lat, lon = float(q.get("latitude", "")), float(q.get("longitude", ""))
    except ValueError:
        return om_error("Parameter 'latitude' and 'longitude' must be floating point numbers.")
    if not -90 <= lat <= 90:
        return om_error("Latitude must be in range of -90 to 90°. Given: %s." % lat)
    if not -180 <= lon <= 180:
        return om_error("Longitude must be in range of -180 to 180°. Given: %s." % lon)
    daily, err = om_vars(q, "daily", OM_DAILY[kind])
    if err:
        return om_error(err)
    hourly, err = om_vars(q, "hourly", OM_HOURLY[kind])
    if err:
        return om_error(err)
    tz = q.get("timezone", "")
    if tz == "" and daily:
        return om_error("Timezone is required")
    if tz not in ("Asia/Seoul", "auto", ""):
        return om_error("This replay server only serves timezone=Asia/Seoul (or auto). Given: %s" % tz)
    wind_unit = q.get("wind_speed_unit", "kmh")
    if wind_unit not in ("kmh", "ms"):
        return om_error("Invalid wind_speed_unit %s" % wind_unit)
    today = world.today()
    if kind == "archive":
        d0, d1 = q.get("start_date", ""), q.get("end_date", "")
        if not d0 or not d1:
            return om_error("Parameter 'start_date' and 'end_date' are required")
        start, end = parse_day(d0), parse_day(d1)
        if start is None or end is None or "-" not in d0 or "-" not in d1:
            return om_error("Invalid date format. Make sure to use 'YYYY-MM-DD'")
        if end < start:
            return om_error("End-date must be larger or equals than start date")
        for name, day in (("start_date", start), ("end_date", end)):
            if day < OM_MIN_DATE or day > today:
                return om_error("Parameter '%s' is out of allowed range from %s to %s" % (
                    name, OM_MIN_DATE.isoformat(), today.isoformat()))
    else:
        try:
            n = int(q.get("forecast_days", str(OM_MAX_FORECAST_DAYS)))
        except ValueError:
            return om_error("Parameter 'forecast_days' must be an integer")
        if not 0 <= n <= OM_MAX_FORECAST_DAYS:
            return om_error("Forecast days is invalid. Allowed range 0 to 16.")
        start, end = today, today + dt.timedelta(days=n - 1)
    days = []
    day = start
    while day <= end:
        days.append(day)
        day += dt.timedelta(days=1)
    wind_factor = 3.6 if wind_unit == "kmh" else 1.0
    if kind == "archive":
        hourly_cols, daily_cols = om_archive_columns(world, days, hourly, daily, wind_factor)
    else:
        hourly_cols, daily_cols = om_forecast_columns(world, days, hourly, daily, wind_factor)
    out = {"latitude": round(lat, 2), "longitude": round(lon, 2), "generationtime_ms": 0.05,
           "utc_offset_seconds": 32400, "timezone": "Asia/Seoul", "timezone_abbreviation": "KST",
           "elevation": 21.0}
    columns = []
    for label, names, cols in (("hourly", hourly, hourly_cols), ("daily", daily, daily_cols)):
        if not names:
            continue
        units = {"time": "iso8601"}
        for name in names:
            units[name] = "m/s" if (name == "wind_speed_10m" and wind_unit == "ms") else OM_UNITS[name]
        out[label + "_units"] = units
        out[label] = cols
        columns.append(cols)
    return Payload(out, family="openmeteo", columns=columns, ctype="application/json; charset=utf-8")


def om_archive_columns(world, days, hourly, daily, wind_factor):
    """Archive columns: daily values from the file (null where it lacks a day), hourly
    values derived so that they are consistent with the daily ones."""
    hcols = {"time": []}
    hcols.update({name: [] for name in hourly})
    dcols = {"time": [d.isoformat() for d in days]}
    dcols.update({name: [] for name in daily})
    for day in days:
        w = world.om_daily(day)
        for name in daily:
            value = None
            if w is not None:
                value = {"temperature_2m_mean": w.mean, "precipitation_sum": w.precip,
                         "rain_sum": w.rain, "snowfall_sum": w.snow,
                         "temperature_2m_max": w.tmax if w.tmax is not None else (
                             None if w.mean is None else round(w.mean + 4.0, 1)),
                         "temperature_2m_min": w.tmin if w.tmin is not None else (
                             None if w.mean is None else round(w.mean - 4.0, 1))}[name]
            dcols[name].append(value)
        if not hourly:
            continue
        for hour in range(24):
            hcols["time"].append("%sT%02d:00" % (day.isoformat(), hour))
            hw = hour_from_daily(day, hour, w) if (w is not None and w.mean is not None) else None
            for name in hourly:
                value = None
                if hw is not None:
                    value = {"temperature_2m": hw.ta, "precipitation": hw.rn, "rain": hw.rain,
                             "snowfall": hw.snow, "relative_humidity_2m": int(hw.hm),
                             "wind_speed_10m": round(hw.ws * wind_factor, 1)}[name]
                hcols[name].append(value)
    return hcols, dcols


def om_forecast_columns(world, days, hourly, daily, wind_factor):
    """Forecast columns issued today: hourly forecasts, daily ones aggregated from them."""
    issued = world.today()
    hcols = {"time": []}
    hcols.update({name: [] for name in hourly})
    dcols = {"time": [d.isoformat() for d in days]}
    dcols.update({name: [] for name in daily})
    for day in days:
        hours = [world.forecast_hour(issued, day, h, "om") for h in range(24)]
        for h, f in enumerate(hours):
            if not hourly:
                break
            hcols["time"].append("%sT%02d:00" % (day.isoformat(), h))
            for name in hourly:
                hcols[name].append({"temperature_2m": f["ta"], "precipitation": f["rn"],
                                    "rain": f["rain"], "snowfall": f["snow"],
                                    "relative_humidity_2m": int(f["hm"]),
                                    "wind_speed_10m": round(f["ws"] * wind_factor, 1),
                                    "precipitation_probability": f["pop"]}[name])
        temps = [f["ta"] for f in hours]
        agg = {"temperature_2m_mean": round(sum(temps) / 24.0, 1), "temperature_2m_max": max(temps),
               "temperature_2m_min": min(temps),
               "precipitation_sum": round(sum(f["rn"] for f in hours), 1),
               "rain_sum": round(sum(f["rain"] for f in hours), 1),
               "snowfall_sum": round(sum(f["snow"] for f in hours), 2),
               "precipitation_probability_max": max(f["pop"] for f in hours)}
        for name in daily:
            dcols[name].append(agg[name])
    return hcols, dcols


# ----------------------------------------------------------------------------------------
# Faults
# ----------------------------------------------------------------------------------------

def validate_rule(rule):
    """Check one fault rule; return a normalised copy or raise ValueError."""
    if not isinstance(rule, dict):
        raise ValueError("a rule must be a JSON object")
    unknown = set(rule) - RULE_KEYS
    if unknown:
        raise ValueError("unknown rule keys: %s" % ", ".join(sorted(unknown)))
    if rule.get("fault") not in FAULT_KINDS:
        raise ValueError("fault must be one of: %s" % ", ".join(FAULT_KINDS))
    out = dict(rule)
    out["match"] = str(rule.get("match", ""))
    if "day" in rule and rule["day"] is not None:
        out["day"] = str(rule["day"]).replace("-", "")
    for key in ("times", "ms", "status", "chunk", "row", "total", "for_ms"):
        if key in rule and rule[key] is not None:
            if not isinstance(rule[key], (int, float)) or isinstance(rule[key], bool) or rule[key] < 0:
                raise ValueError("%s must be a non-negative number" % key)
    if rule["fault"] == "truncate" and out.get("mode", "short") not in ("short", "lie"):
        raise ValueError("truncate mode must be 'short' or 'lie'")
    if rule["fault"] == "quota" and out.get("mode", "json") not in ("json", "xml"):
        raise ValueError("quota mode must be 'json' or 'xml'")
    if rule["fault"] == "endless_pages" and out.get("mode", "empty") not in ("empty", "repeat"):
        raise ValueError("endless_pages mode must be 'empty' or 'repeat'")
    if rule["fault"] == "xml_error":
        try:
            int(out.get("code", 30))
        except (TypeError, ValueError):
            raise ValueError("xml_error code must be a number")
    if rule["fault"] == "echo" and out.get("mode", "raw") not in ECHO_MODES:
        raise ValueError("echo mode must be one of: %s" % ", ".join(ECHO_MODES))
    if "pad" in rule and (not isinstance(rule["pad"], int) or isinstance(rule["pad"], bool)
                          or not 0 <= rule["pad"] <= 100000):
        raise ValueError("pad must be a number of characters from 0 to 100000")
    if rule["fault"] == "redirect":
        if int(out.get("status", 302)) not in REDIRECT_STATUSES:
            raise ValueError("redirect status must be one of: %s" % ", ".join(map(str, REDIRECT_STATUSES)))
        if "to" in rule and not re.fullmatch(r"https?://[^/?#\s]+", str(rule["to"])):
            raise ValueError("redirect to must be a base URL such as http://127.0.0.1:8080")
    out["hits"] = 0
    return out


class FaultBook:
    """The current fault rules and the request statistics (thread-safe)."""

    def __init__(self):
        """Start with no rules and empty statistics."""
        self.lock = threading.Lock()
        self.rules = []
        self.set_at = time.monotonic()
        self.reset_stats()

    def reset_stats(self):
        """Clear the counters (the rules and their hit counts stay); caller holds the lock."""
        self.total = 0
        self.requests = {}
        self.faults = {}
        self.status = {}

    def set_rules(self, rules):
        """Replace the rule list (each validated; hit counters start at 0)."""
        checked = [validate_rule(r) for r in rules]
        with self.lock:
            self.rules = checked
            self.set_at = time.monotonic()

    def select(self, route, target):
        """Count a data request and pick the rules it consumes: every matching delay rule
        (latency/hang) plus the first other matching rule. Returns (delays, effect)."""
        decoded = unquote(target)
        flat = decoded.replace("-", "")
        delays, effect = [], None
        with self.lock:
            self.total += 1
            self.requests[route] = self.requests.get(route, 0) + 1
            age_ms = (time.monotonic() - self.set_at) * 1000.0
            for rule in self.rules:
                if rule["match"] and rule["match"] not in target and rule["match"] not in decoded:
                    continue
                if rule.get("for_ms") is not None and age_ms >= rule["for_ms"]:
                    continue
                if rule.get("day") and rule["day"] not in flat:
                    continue
                if rule.get("times") is not None and rule["hits"] >= rule["times"]:
                    continue
                is_delay = rule["fault"] in DELAY_FAULTS
                if not is_delay and effect is not None:
                    continue
                rule["hits"] += 1
                self.faults[rule["fault"]] = self.faults.get(rule["fault"], 0) + 1
                if is_delay:
                    delays.append(dict(rule))
                else:
                    effect = dict(rule)
        return delays, effect

    def count_status(self, status):
        """Count one answered status code."""
        with self.lock:
            key = str(status)
            self.status[key] = self.status.get(key, 0) + 1

    def snapshot(self):
        """The /_stats document."""
        with self.lock:
            return {"total": self.total, "requests": dict(self.requests), "faults": dict(self.faults),
                    "status": dict(self.status), "rules": [dict(r) for r in self.rules]}

    def rules_doc(self):
        """The /_faults document."""
        with self.lock:
            return {"rules": [dict(r) for r in self.rules]}


def echo_reply(rule, family, fmt, target):
    """The echo fault: an error answer whose message repeats the request target, key
    included, as a careless upstream does: as received (mode raw), %-decoded (decoded) or
    %-decoded and then with every '+' read as a space (form), after ``pad`` dots."""
    mode = rule.get("mode", "raw")
    text = target if mode == "raw" else unquote(target)
    if mode == "form":
        text = text.replace("+", " ")
    text = "." * int(rule.get("pad", 0)) + text
    if family == "seoul":
        return Payload({"RESULT": {"CODE": "ERROR-300", "MESSAGE": "%s 요청: %s" % (SEOUL_MESSAGES["ERROR-300"], text)}},
                       fmt=fmt, family="seoul")
    if family == "datagokr":
        return kma_error("10", "INVALID_REQUEST_PARAMETER_ERROR: " + text, fmt)
    return om_error("Cannot parse the request " + text)


def redirect_reply(rule, target, host):
    """The redirect fault: ``status`` (302) to the same target on the base URL ``to``
    (default: this server, as the client named it in Host), key and all."""
    base = str(rule.get("to") or "http://" + (host or "127.0.0.1"))
    body = b"<html><body>Moved</body></html>"
    return Payload(body, fmt="raw", status=int(rule.get("status", 302)), ctype="text/html;charset=UTF-8",
                   headers={"Location": base + target})


def fault_reply(rule, family, route, fmt, target="", host=""):
    """A payload replacing the normal answer for response faults, or None when the fault
    edits the normal answer instead (transforms, transport faults, Open-Meteo nodata).
    ``target`` is the request's path and query, ``host`` its Host header."""
    kind = rule["fault"]
    if kind == "echo":
        return echo_reply(rule, family, fmt, target)
    if kind == "redirect":
        return redirect_reply(rule, target, host)
    if kind == "http500":
        return html_error(int(rule.get("status", 500)))
    if kind == "xml_error":
        return gateway_xml(rule.get("code", 30))
    if kind == "seoul_error":
        return seoul_result(str(rule.get("code", "ERROR-500")), fmt if family == "seoul" else "json")
    if kind == "quota":
        if family == "seoul":
            return seoul_result(str(rule.get("code", "ERROR-500")), fmt)
        if family == "datagokr":
            if rule.get("mode", "json") == "xml":
                return gateway_xml(22)
            return kma_error("22", "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR", fmt)
        return om_error("Daily API request limit exceeded. Please try again tomorrow.", status=429)
    if kind == "nodata":
        if family == "seoul":
            return seoul_result("INFO-200", fmt)
        if route == "getRestDeInfo":
            return kasi_nodata(fmt)
        if family == "datagokr":
            return kma_error("03", "NO_DATA", fmt)
    return None


def apply_transform(payload, rule):
    """Edit a successful payload in place for the row-level faults (and Open-Meteo nodata)."""
    kind = rule["fault"]
    if payload.columns is not None:
        transform_columns(payload, rule)
        return
    rows = payload.rows
    if not rows or kind not in TRANSFORM_FAULTS:
        return
    payload.raw = None
    target = min(int(rule.get("row", payload.target)), len(rows) - 1)
    field = rule.get("field") or payload.required
    if kind == "wrong_types":
        rows[target][field] = "abc"
    elif kind in ("float_counts", "string_counts"):
        for row in rows:
            for key in list(row):
                if payload.numeric and payload.numeric(key):
                    row[key] = as_float(row[key]) if kind == "float_counts" else as_string(row[key])
    elif kind == "missing_fields":
        rows[target].pop(field, None)
    elif kind == "extra_fields":
        for row in rows:
            row["X_REPLAY_EXTRA"] = "unexpected"
            row["EXTRA_COUNT_NOPE"] = 7
    elif kind == "duplicate_rows":
        rows.insert(target + 1, dict(rows[target]))
        if target != 0:
            rows.append(dict(rows[0]))
    if payload.writeback:
        payload.writeback(rows)


def as_float(value):
    """Turn a number or numeric string into a float (others unchanged)."""
    if isinstance(value, bool):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def as_string(value):
    """Turn a number into its string form (strings unchanged)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def transform_columns(payload, rule):
    """Open-Meteo flavour of the row faults, applied to the column arrays."""
    kind = rule["fault"]
    sections = payload.columns
    names = [[k for k in sec if k != "time"] for sec in sections]
    if not sections:
        return
    if kind == "nodata":
        for sec, keys in zip(sections, names):
            for k in keys:
                sec[k] = [None] * len(sec[k])
    elif kind == "wrong_types":
        for sec, keys in zip(sections, names):
            if keys and sec[keys[0]]:
                sec[keys[0]][0] = "abc"
                break
    elif kind in ("float_counts", "string_counts"):
        conv = as_float if kind == "float_counts" else as_string
        for sec, keys in zip(sections, names):
            for k in keys:
                sec[k] = [None if v is None else conv(v) for v in sec[k]]
    elif kind == "missing_fields":
        for sec, keys in zip(sections, names):
            victim = rule.get("field") if rule.get("field") in keys else (keys[0] if keys else None)
            if victim:
                del sec[victim]
                break
    elif kind == "extra_fields":
        payload.obj["replay_extra"] = "unexpected"
        for sec in sections:
            sec["replay_extra_variable"] = [0] * len(sec["time"])
    elif kind == "duplicate_rows":
        for sec in sections:
            for k in sec:
                if sec[k]:
                    sec[k].insert(1, sec[k][0])


# ----------------------------------------------------------------------------------------
# HTTP layer
# ----------------------------------------------------------------------------------------

class Query(dict):
    """Query parameters: first value per name, plus every value via get_all()."""

    def __init__(self, raw):
        """Parse a raw query string (blank values kept)."""
        self.multi = parse_qs(raw, keep_blank_values=True)
        super().__init__({k: v[0] for k, v in self.multi.items()})

    def get_all(self, name):
        """Every value of a repeated parameter."""
        return self.multi.get(name, [])


def classify(path):
    """Return (family, route) for a request path."""
    segs = path.split("/")
    if len(segs) >= 4 and (segs[2].lower() in SEOUL_TYPES or segs[3] in SEOUL_SERVICES):
        return "seoul", segs[3] if segs[3] in SEOUL_SERVICES else "seoul-unknown"
    if path in DGK_PATHS:
        return "datagokr", DGK_PATHS[path]
    if path in ("/v1/archive", "/v1/forecast"):
        return "openmeteo", path.rsplit("/", 1)[1]
    return "unknown", "unknown"


def redact(target, cfg):
    """The request target with the Seoul path key and the serviceKey value replaced by ***."""
    split = urlsplit(target)
    segs = split.path.split("/")
    if len(segs) >= 4 and (segs[2].lower() in SEOUL_TYPES or segs[3] in SEOUL_SERVICES):
        segs[1] = "***"
    query = re.sub(r"(?i)(servicekey=)[^&]*", r"\1***", split.query)
    out = "/".join(segs) + ("?" + query if query else "")
    for key in (cfg.seoul_key, cfg.data_go_kr_key):
        if key and len(key) >= 4:
            out = out.replace(key, "***")
    return out


class ReplayServer(ThreadingHTTPServer):
    """Threaded HTTP server on 127.0.0.1 carrying the world, the config and the faults."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port, cfg, world):
        """Bind and listen on 127.0.0.1:port (0 = any free port)."""
        self.cfg, self.world = cfg, world
        self.faults = FaultBook()
        self.stop_event = threading.Event()
        self.log_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), Handler)


class Handler(BaseHTTPRequestHandler):
    """One connection: data routes, admin routes, faults and the per-request log line."""

    protocol_version = "HTTP/1.1"
    server_version = "ReplayServer/1.0"
    timeout = 30

    def log_message(self, fmt, *args):
        """Silence the default access log (one line per request is written by _log)."""

    def do_GET(self):
        """Handle GET."""
        self._dispatch("GET")

    def do_POST(self):
        """Handle POST (admin API only)."""
        self._dispatch("POST")

    def do_DELETE(self):
        """Handle DELETE (admin API only)."""
        self._dispatch("DELETE")

    def _dispatch(self, method):
        """Route a request, answer it and log it; never let an exception kill the server."""
        t0 = time.monotonic()
        self._info = {"status": "-", "bytes": 0, "route": "-", "faults": []}
        try:
            split = urlsplit(self.path)
            if split.path.startswith("/_"):
                self._admin(method, split.path)
            elif method != "GET":
                self._send_payload(om_error("method not allowed", 405))
            else:
                self._data(split)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self._info["status"] = "aborted"
            self.close_connection = True
        except Exception:                                    # pragma: no cover - safety net
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            try:
                self._send_payload(html_error(500))
            except OSError:
                pass
        self._log(method, time.monotonic() - t0)

    def _log(self, method, elapsed):
        """Write one line per request to stderr, keys redacted."""
        if self.server.cfg.quiet:
            return
        info = self._info
        line = "[replay] %s %s %s %s %dB %.1fms route=%s mode=%s%s\n" % (
            dt.datetime.now(KST).strftime("%Y-%m-%dT%H:%M:%S"), method,
            redact(self.path, self.server.cfg), info["status"], info["bytes"], elapsed * 1000.0,
            info["route"], "synthetic" if self.server.world.synthetic else "data",
            (" faults=" + ",".join(info["faults"])) if info["faults"] else "")
        with self.server.log_lock:
            sys.stderr.write(line)
            sys.stderr.flush()

    def _read_json(self):
        """Read and parse a JSON request body (None when absent)."""
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0:
            return None
        return json.loads(self.rfile.read(length).decode("utf-8"))

    def _admin(self, method, path):
        """The admin API: /_faults, /_stats, /_reset, /_health."""
        book = self.server.faults
        self._info["route"] = "admin"
        doc, status = None, 200
        if path == "/_faults" and method == "POST":
            try:
                body = self._read_json()
                rules = body.get("rules") if isinstance(body, dict) else None
                if not isinstance(rules, list):
                    raise ValueError('body must be {"rules": [...]}')
                book.set_rules(rules)
                doc = {"ok": True, "rules": len(rules)}
            except (ValueError, UnicodeDecodeError) as exc:
                doc, status = {"ok": False, "error": str(exc)}, 400
        elif path == "/_faults" and method == "DELETE":
            book.set_rules([])
            doc = {"ok": True, "rules": 0}
        elif path == "/_faults" and method == "GET":
            doc = book.rules_doc()
        elif path == "/_stats" and method == "GET":
            doc = book.snapshot()
        elif path == "/_reset" and method == "POST":
            self._read_json_quietly()
            with book.lock:
                book.reset_stats()
            doc = {"ok": True}
        elif path == "/_health" and method == "GET":
            doc = {"ok": True, "mode": "synthetic" if self.server.world.synthetic else "data",
                   "today": self.server.world.today().isoformat()}
        else:
            doc, status = {"ok": False, "error": "no such admin endpoint"}, 404
        self._send_payload(Payload(doc, status=status))

    def _read_json_quietly(self):
        """Drain an optional request body, ignoring its content."""
        try:
            self._read_json()
        except ValueError:
            pass

    def _data(self, split):
        """A data request: faults, then the route, then transforms and transport faults."""
        srv = self.server
        family, route = classify(split.path)
        self._info["route"] = route
        delays, effect = srv.faults.select(route, self.path)
        self._info["faults"] = [r["fault"] for r in delays] + ([effect["fault"]] if effect else [])
        pause = srv.cfg.latency_ms / 1000.0
        for rule in delays:
            pause += float(rule.get("ms", 60000 if rule["fault"] == "hang" else 500)) / 1000.0
        if pause > 0 and srv.stop_event.wait(pause):
            self._info["status"] = "aborted(shutdown)"
            self.close_connection = True
            return
        q = Query(split.query)
        segs = split.path.split("/")
        fmt = "json"
        if family == "seoul":
            fmt = "xml" if segs[2].lower() == "xml" else "json"
        elif family == "datagokr":
            asked = q.get("_type", "") if route == "getRestDeInfo" else q.get("dataType", "")
            fmt = "json" if asked.lower() == "json" else "xml"
        payload = fault_reply(effect, family, route, fmt, self.path, self.headers.get("Host")) if effect else None
        if payload is None:
            payload = self._route(family, route, segs, q, split.query, fmt)
            if effect and (effect["fault"] in TRANSFORM_FAULTS or effect["fault"] == "nodata"):
                apply_transform(payload, effect)
            if effect and effect["fault"] == "endless_pages":
                payload = self._endless(payload, family, route, segs, split.query, fmt, effect)
        self._send_payload(payload, effect if effect and effect["fault"] in TRANSPORT_FAULTS else None)

    def _endless(self, payload, family, route, segs, raw_query, fmt, rule):
        """endless_pages: the answer reports ``total`` rows; a page past the real end (or of a
        day without data) is an empty success page (mode "empty") or the first page again
        (mode "repeat").  Seoul and data.go.kr only (Open-Meteo has no pages)."""
        total = int(rule.get("total", ENDLESS_TOTAL))
        repeat = rule.get("mode", "empty") == "repeat"
        if family == "seoul":
            service = segs[3] if len(segs) > 5 else ""
            if not isinstance(payload.obj, dict) or service not in SEOUL_SERVICES:
                return payload
            if service not in payload.obj:
                if payload.obj.get("RESULT", {}).get("CODE") != "INFO-200":
                    return payload
                if repeat:
                    first = list(segs)
                    first[4], first[5] = "1", str(int(segs[5]) - int(segs[4]) + 1)
                    payload = self._route(family, route, first, Query(raw_query), raw_query, fmt)
                if service not in payload.obj:
                    payload = Payload({service: {"list_total_count": 0, "RESULT": {
                        "CODE": "INFO-000", "MESSAGE": SEOUL_MESSAGES["INFO-000"]}, "row": []}},
                        fmt=fmt, family="seoul")
            payload.raw = None
            payload.obj[service]["list_total_count"] = total
            return payload
        if family != "datagokr" or not isinstance(payload.obj, dict) or "response" not in payload.obj:
            return payload
        q = Query(raw_query)
        page = q.get("pageNo", "1")
        rows = q.get("numOfRows", "10")
        header = payload.obj["response"].get("header", {})
        past_end = header.get("resultCode") == "03" or (route == "getRestDeInfo" and page not in ("", "1"))
        if past_end and repeat:
            q["pageNo"] = "1"
            payload = self._route(family, route, segs, q, raw_query, fmt)
            past_end = payload.obj.get("response", {}).get("header", {}).get("resultCode") == "03"
        if past_end:
            payload = Payload({"response": {"header": {"resultCode": "00", "resultMsg": "NORMAL_SERVICE"},
                                            "body": {"items": "", "numOfRows": rows, "pageNo": page,
                                                     "totalCount": 0}}}, fmt=fmt, family="datagokr")
        body = payload.obj["response"].get("body")
        if not isinstance(body, dict):
            return payload
        payload.raw = None
        body["pageNo"] = int(page) if page.isdigit() else page
        body["totalCount"] = total
        return payload

    def _route(self, family, route, segs, q, raw_query, fmt):
        """Dispatch to the route functions."""
        world, cfg = self.server.world, self.server.cfg
        if family == "seoul":
            return seoul_route(world, cfg, segs)
        if family == "datagokr":
            if not dgk_key_ok(cfg, raw_query):
                return gateway_xml(30)
            if route == "getRestDeInfo":
                return kasi_route(world, q, fmt)
            if route == "getWthrDataList":
                return asos_route(world, q, fmt)
            if route == "getVilageFcst":
                return vilage_route(world, q, fmt)
            return ncst_route(world, q, fmt)
        if family == "openmeteo":
            return om_route(world, route, q)
        return Payload({"ok": False, "error": "not found"}, status=404)

    def _send_payload(self, payload, transport=None):
        """Send a payload, applying truncate/slow_drip when asked."""
        status, ctype, body = payload.render()
        send, length = body, len(body)
        close = False
        if transport and transport["fault"] == "truncate":
            send = body[:len(body) // 2]
            if transport.get("mode", "short") == "lie":
                close = True
            else:
                length = len(send)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("X-Replay-Mode", "synthetic" if self.server.world.synthetic else "data")
        if self.server.world.synthetic:
            self.send_header("X-Replay-Synthetic", "1")
        if self._info["faults"]:
            self.send_header("X-Replay-Fault", ",".join(self._info["faults"]))
        for name, value in payload.headers.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self._info["status"] = status
        if self._info["route"] != "admin":
            self.server.faults.count_status(status)
        if transport and transport["fault"] == "slow_drip":
            chunk = max(1, int(transport.get("chunk", 1024)))
            gap = float(transport.get("ms", 100)) / 1000.0
            for i in range(0, len(send), chunk):
                if i and self.server.stop_event.wait(gap):
                    self.close_connection = True
                    return
                self.wfile.write(send[i:i + chunk])
                self.wfile.flush()
        else:
            self.wfile.write(send)
        self._info["bytes"] = len(send)


# ----------------------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------------------

def parse_args(argv):
    """Parse the command line."""
    p = argparse.ArgumentParser(description="daily_seongsu replay server (127.0.0.1 only)")
    p.add_argument("--port", type=int, default=0, help="TCP port, 0 = pick a free one")
    p.add_argument("--port-file", default="", help="write the port here once listening")
    p.add_argument("--data", default="", help="real data folder (missing/empty = synthetic)")
    p.add_argument("--seoul-key", default="SEOUL-TEST-KEY", help="accepted Seoul Open Data key")
    p.add_argument("--data-go-kr-key", default="DATA-GO-KR-TEST-KEY", help="accepted serviceKey")
    p.add_argument("--synthetic", action="store_true", help="serve the synthetic series")
    p.add_argument("--latency-ms", type=int, default=0, help="delay every data request")
    p.add_argument("--today", default="", help="pin today's KST date (YYYY-MM-DD)")
    p.add_argument("--delay-days", type=int, default=3, help="Seoul daily data publication delay")
    p.add_argument("--quiet", action="store_true", help="no per-request log lines")
    args = p.parse_args(argv)
    if args.today and parse_day(args.today) is None:
        p.error("--today must be YYYY-MM-DD")
    return args


def write_port_file(path, port):
    """Atomically write the port number to ``path``."""
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, "w") as fh:
        fh.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    """Load the data, start listening, write the port file, serve until SIGTERM/SIGINT."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    store = None
    if args.data and os.path.isdir(args.data) and os.listdir(args.data):
        store = DataStore(args.data)
    elif args.data:
        sys.stderr.write("[replay] data folder %r missing or empty: synthetic mode\n" % args.data)
    world = World(store, args.synthetic, parse_day(args.today) if args.today else None, args.delay_days)
    server = ReplayServer(args.port, args, world)
    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    sys.stderr.write("[replay] listening on 127.0.0.1:%d mode=%s today=%s\n" % (
        port, "synthetic" if world.synthetic else "data", world.today().isoformat()))
    sys.stderr.flush()

    def on_signal(signum, frame):
        """Stop serving: wake sleeping faults and shut the loop down from another thread."""
        server.stop_event.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if args.port_file:
            try:
                os.unlink(args.port_file)
            except OSError:
                pass
        sys.stderr.write("[replay] stopped\n")
        sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
