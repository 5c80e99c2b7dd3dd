"""Tests of test/replay/replay_server.py.

Run from the project root:  python3 -m unittest test/replay/test_replay_server.py
The real data folder comes from $DAILY_SEONGSU_DATA (default: ../shared/data relative to
the project root); the cases that need it are skipped when it is absent.
"""

import csv
import datetime as dt
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SERVER = HERE / "replay_server.py"
DATA = Path(os.environ.get("DAILY_SEONGSU_DATA") or (ROOT.parent / "shared" / "data"))
HAVE_DATA = (DATA / "seongsu" / "daily_2022-11_2025-05.csv").is_file()

SEOUL_KEY = "test-seoul-key"
DGK_KEY = "test+dgk/key=="                  # like real data.go.kr keys: must be %-encoded
DGK_Q = "serviceKey=" + quote(DGK_KEY, safe="")
TODAY = "2025-06-10"
SEONGSU = quote("성수")
LINE2 = quote("2호선")
GATEWAY_30 = ("<OpenAPI_ServiceResponse><cmmMsgHeader><errMsg>SERVICE ERROR</errMsg>"
              "<returnAuthMsg>SERVICE_KEY_IS_NOT_REGISTERED_ERROR</returnAuthMsg>"
              "<returnReasonCode>30</returnReasonCode></cmmMsgHeader></OpenAPI_ServiceResponse>")
ASOS = "/1360000/AsosHourlyInfoService/getWthrDataList"
VILAGE = "/1360000/VilageFcstInfoService_2.0/getVilageFcst"
KASI = "/B090041/openapi/service/SpcdeInfoService/getRestDeInfo"
OM_Q = "latitude=37.5445&longitude=127.0565&timezone=Asia%2FSeoul"


def seoul(service, start, end, arg, key=SEOUL_KEY, typ="json"):
    """Path of a Seoul Open Data request."""
    return "/%s/%s/%s/%s/%s/%s" % (key, typ, service, start, end, arg)


def asos(start, sh, end, eh, rows=999, page=1, extra=""):
    """Path of an ASOS hourly request."""
    return ("%s?%s&pageNo=%d&numOfRows=%d&dataType=JSON&dataCd=ASOS&dateCd=HR&startDt=%s"
            "&startHh=%s&endDt=%s&endHh=%s&stnIds=108%s" % (ASOS, DGK_Q, page, rows, start, sh, end, eh, extra))


class Server:
    """A replay server subprocess on a free port (found through --port-file)."""

    def __init__(self, *extra):
        """Start the server with the test keys, the pinned date and ``extra`` options."""
        self.tmp = tempfile.TemporaryDirectory()
        self.port_file = os.path.join(self.tmp.name, "port")
        self.err_path = os.path.join(self.tmp.name, "stderr")
        self.err = open(self.err_path, "wb")
        cmd = [sys.executable, str(SERVER), "--port", "0", "--port-file", self.port_file,
               "--seoul-key", SEOUL_KEY, "--data-go-kr-key", DGK_KEY, "--today", TODAY] + list(extra)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.monotonic() + 20
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("replay server did not start: " + self.stderr())
            time.sleep(0.02)
        with open(self.port_file) as fh:
            self.port = int(fh.read())

    def request(self, method, path, body=None, timeout=10):
        """One HTTP request; returns (status, lower-cased headers, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def get(self, path, timeout=10):
        """GET; returns (status, headers, body bytes)."""
        return self.request("GET", path, timeout=timeout)

    def json(self, path):
        """GET and parse JSON."""
        status, _, body = self.get(path)
        return json.loads(body.decode("utf-8"))

    def faults(self, *rules):
        """Replace the fault rules."""
        status, _, body = self.request("POST", "/_faults", {"rules": list(rules)})
        assert status == 200, body
        return json.loads(body)

    def stats(self):
        """The /_stats document."""
        return json.loads(self.request("GET", "/_stats")[2])

    def stderr(self):
        """Everything the server wrote to stderr so far."""
        self.err.flush()
        with open(self.err_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def stop(self):
        """SIGTERM and wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.err.close()
        self.tmp.cleanup()
        return code


def seongsu_row(doc, service="CardSubwayStatsNew"):
    """The Seongsu row of a Seoul answer (or None)."""
    for row in doc[service]["row"]:
        if row.get("SBWY_STNS_NM", row.get("STTN")) == "성수":
            return row
    return None


def load_daily_csv():
    """{YYYYMMDD: (boardings, alightings)} from the daily file."""
    out = {}
    with open(DATA / "seongsu" / "daily_2022-11_2025-05.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["date"].replace("-", "")] = (int(row["boardings"]), int(row["alightings"]))
    return out


# ----------------------------------------------------------------------------------------

@unittest.skipUnless(HAVE_DATA, "real data folder not found (set DAILY_SEONGSU_DATA)")
class DataModeTest(unittest.TestCase):
    """The server in data mode against the real files."""

    @classmethod
    def setUpClass(cls):
        """Start one data-mode server for the class."""
        cls.srv = Server("--data", str(DATA))

    @classmethod
    def tearDownClass(cls):
        """Stop it."""
        cls.srv.stop()

    def test_seongsu_exact_values(self):
        """Known Seongsu rows, including REG_YMD (+3 days, or the file's 등록일자)."""
        cases = {"20231024": (45518, 49871, "20231027"),   # daily file
                 "20221129": (41537, 45075, "20221202"),   # the api-formats.md example values
                 "20150101": (6120, 6463, "20151217"),     # 2015-2021 monthly file
                 "20220101": (9220, 10042, "20220104")}    # 2022-2024 monthly file
        for day, (on, off, reg) in cases.items():
            status, headers, body = self.srv.get(seoul("CardSubwayStatsNew", 1, 1000, day))
            self.assertEqual(status, 200)
            self.assertEqual(headers.get("x-replay-mode"), "data")
            self.assertNotIn("x-replay-synthetic", headers)
            doc = json.loads(body)
            self.assertEqual(doc["CardSubwayStatsNew"]["RESULT"]["CODE"], "INFO-000")
            self.assertEqual(doc["CardSubwayStatsNew"]["list_total_count"], 607)
            row = seongsu_row(doc)
            self.assertEqual(row, {"USE_YMD": day, "SBWY_ROUT_LN_NM": "2호선", "SBWY_STNS_NM": "성수",
                                   "GTON_TNOPE": on, "GTOFF_TNOPE": off, "REG_YMD": reg})
            self.assertIn(b'"GTON_TNOPE":%d' % on, body)          # a JSON number

    def test_daily_file_sample_matches(self):
        """Every 15th day of the daily file is served with the file's counts."""
        daily = load_daily_csv()
        for day in sorted(daily)[::15]:
            row = seongsu_row(self.srv.json(seoul("CardSubwayStatsNew", 101, 101, day)))
            self.assertEqual((row["GTON_TNOPE"], row["GTOFF_TNOPE"]), daily[day], day)

    def test_gap_day_is_info200(self):
        """A day in the December 2022 gap answers the bare INFO-200 body."""
        self.assertNotIn("20221210", load_daily_csv())
        status, _, body = self.srv.get(seoul("CardSubwayStatsNew", 1, 1000, "20221210"))
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"RESULT": {"CODE": "INFO-200", "MESSAGE": "해당하는 데이터가 없습니다."}})

    def test_paging(self):
        """Pages of 250 rebuild the 1..1000 answer; Seongsu is row 101; beyond the end is INFO-200."""
        full = self.srv.json(seoul("CardSubwayStatsNew", 1, 1000, "20240105"))["CardSubwayStatsNew"]
        self.assertEqual(len(full["row"]), 607)
        rows = []
        for start in (1, 251, 501):
            page = self.srv.json(seoul("CardSubwayStatsNew", start, start + 249, "20240105"))
            self.assertEqual(page["CardSubwayStatsNew"]["list_total_count"], 607)
            rows += page["CardSubwayStatsNew"]["row"]
        self.assertEqual(rows, full["row"])
        self.assertEqual(full["row"][100]["SBWY_STNS_NM"], "성수")
        self.assertEqual(seongsu_row(self.srv.json(seoul("CardSubwayStatsNew", 1, 100, "20240105"))), None)
        names = {r["SBWY_STNS_NM"] for r in rows}
        self.assertEqual(len(names), 607)
        self.assertEqual({r["SBWY_ROUT_LN_NM"] for r in rows}, {"%d호선" % i for i in range(1, 10)})
        beyond = self.srv.json(seoul("CardSubwayStatsNew", 701, 800, "20240105"))
        self.assertEqual(beyond["RESULT"]["CODE"], "INFO-200")

    def test_seoul_errors(self):
        """Wrong key, index errors, unknown service, sample key, XML type."""
        def code(path):
            """RESULT.CODE of a bare Seoul error body (HTTP 200)."""
            status, _, body = self.srv.get(path)
            self.assertEqual(status, 200)
            return json.loads(body)["RESULT"]["CODE"]
        self.assertEqual(code(seoul("CardSubwayStatsNew", 1, 5, "20240105", key="wrong")), "INFO-100")
        self.assertEqual(code(seoul("CardSubwayStatsNew", 1, 1001, "20240105")), "ERROR-336")
        self.assertEqual(code(seoul("CardSubwayStatsNew", "a", 5, "20240105")), "ERROR-333")
        self.assertEqual(code(seoul("CardSubwayStatsNew", 5, 1, "20240105")), "ERROR-334")
        self.assertEqual(code(seoul("NoSuchService", 1, 5, "20240105")), "ERROR-310")
        self.assertEqual(code(seoul("CardSubwayStatsNew", 1, 6, "20240105", key="sample")), "ERROR-335")
        status, headers, body = self.srv.get(seoul("CardSubwayStatsNew", 101, 101, "20231024", typ="xml"))
        self.assertIn("xml", headers["content-type"])
        self.assertIn("<GTON_TNOPE>45518</GTON_TNOPE>", body.decode())

    def test_card_subway_time_matches_file(self):
        """CardSubwayTime: every hour field of the Seongsu row equals the CSV, JOB_YMD too."""
        with open(DATA / "seongsu" / "card_subway_time_2022-2024.csv", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            file_rows = list(reader)
        for row in file_rows:
            doc = self.srv.json(seoul("CardSubwayTime", 1, 1000, row[0]))
            self.assertEqual(doc["CardSubwayTime"]["list_total_count"], 607)
            got = seongsu_row(doc, "CardSubwayTime")
            self.assertEqual(got["USE_MM"], row[0])
            self.assertEqual(got["JOB_YMD"], row[-1])
            for col, value in zip(header[3:-1], row[3:-1]):
                hour = int(col[:2])
                kind = "GET_ON" if "승차" in col else "GET_OFF"
                self.assertEqual(got["HR_%d_%s_NOPE" % (hour, kind)], int(value), (row[0], col))
        filtered = self.srv.json(seoul("CardSubwayTime", 1, 5, "202201/%s/%s" % (LINE2, SEONGSU)))
        self.assertEqual(filtered["CardSubwayTime"]["list_total_count"], 1)
        self.assertEqual(filtered["CardSubwayTime"]["row"][0]["HR_8_GET_OFF_NOPE"], 251746)
        self.assertEqual(self.srv.json(seoul("CardSubwayTime", 1, 5, "202301"))["RESULT"]["CODE"], "INFO-200")

    def test_holidays_verbatim(self):
        """getRestDeInfo serves the KASI files byte for byte; unknown years give resultCode 03."""
        for year, month in (("2024", "02"), ("2024", "03"), ("2024", "07"), ("2017", "10")):
            status, _, body = self.srv.get("%s?%s&solYear=%s&solMonth=%s&_type=json&numOfRows=100" % (
                KASI, DGK_Q, year, month))
            self.assertEqual(status, 200)
            self.assertEqual(body, (DATA / "holidays" / "kasi_getRestDeInfo" / year / ("%s.json" % month)).read_bytes())
        doc = self.srv.json("%s?%s&solYear=2031&solMonth=01&_type=json" % (KASI, DGK_Q))
        self.assertEqual(doc["response"]["header"]["resultCode"], "03")
        self.assertEqual(doc["response"]["body"]["items"], "")
        self.assertEqual(doc["response"]["body"]["totalCount"], 0)

    def test_datagokr_wrong_key_is_xml(self):
        """A wrong serviceKey gives the gateway XML (HTTP 200) even with JSON asked."""
        for path in ("%s?serviceKey=nope&solYear=2024&solMonth=03&_type=json" % KASI,
                     asos("20240101", "00", "20240101", "23").replace(DGK_Q, "serviceKey=nope"),
                     "%s?serviceKey=nope&dataType=JSON&base_date=20250609&base_time=0500&nx=61&ny=126" % VILAGE,
                     "%s?solYear=2024&solMonth=03&_type=json" % KASI):
            status, headers, body = self.srv.get(path)
            self.assertEqual(status, 200)
            self.assertEqual(body.decode(), GATEWAY_30)
            self.assertIn("xml", headers["content-type"])

    def test_asos_from_uci_hours(self):
        """2018-01-01: every hour comes from the UCI file; all values are strings."""
        with open(DATA / "weather" / "uci_seoulbike_hourly_2017-12_2018-11.csv", encoding="utf-8") as fh:
            want = {int(r["Hour"]): r for r in csv.DictReader(fh) if r["date_iso"] == "2018-01-01"}
        body = self.srv.json(asos("20180101", "00", "20180101", "23"))["response"]["body"]
        self.assertEqual(body["totalCount"], 24)
        for item in body["items"]["item"]:
            hour = int(item["tm"][11:13])
            self.assertEqual(item["tm"], "2018-01-01 %02d:00" % hour)
            self.assertTrue(all(isinstance(v, str) for v in item.values()))
            self.assertEqual(float(item["ta"]), float(want[hour]["Temperature(C)"]))
            self.assertEqual(float(item["ws"]), float(want[hour]["Wind speed (m/s)"]))
            self.assertEqual(int(item["hm"]), int(want[hour]["Humidity(percentage)"]))
            rain = float(want[hour]["Rainfall(mm)"])
            self.assertEqual(item["rn"], "" if rain == 0 else "%.1f" % rain)
            self.assertEqual((item["stnId"], item["stnNm"]), ("108", "서울"))

    def test_asos_from_daily_and_paging(self):
        """2024-01: hours derived from KMA daily values keep the daily mean; paging works."""
        items = self.srv.json(asos("20240101", "00", "20240101", "23"))["response"]["body"]["items"]["item"]
        temps = [float(i["ta"]) for i in items]
        self.assertAlmostEqual(sum(temps) / 24, 3.3, delta=0.06)       # KMA 108 mean of 2024-01-01
        self.assertAlmostEqual(max(temps) - min(temps), 7.3 - -0.3, delta=0.15)
        seen = []
        for page, size in ((1, 30), (2, 30), (3, 12)):
            body = self.srv.json(asos("20240101", "00", "20240103", "23", rows=30, page=page))["response"]["body"]
            self.assertEqual((body["totalCount"], body["pageNo"], len(body["items"]["item"])), (72, page, size))
            seen += [i["rnum"] for i in body["items"]["item"]]
        self.assertEqual(seen, [str(i) for i in range(1, 73)])
        beyond = self.srv.json(asos("20240101", "00", "20240103", "23", rows=30, page=4))
        self.assertEqual(beyond["response"]["header"]["resultCode"], "03")
        gap = self.srv.json(asos("20210601", "00", "20210601", "23"))
        self.assertEqual(gap["response"]["header"]["resultCode"], "03")
        too_many = self.srv.json(asos("20240101", "00", "20240103", "23", rows=1000))
        self.assertEqual(too_many["response"]["header"]["resultCode"], "10")
        today = self.srv.json(asos("20250609", "00", TODAY.replace("-", ""), "01"))
        self.assertEqual(today["response"]["header"]["resultCode"], "99")

    def test_vilage_forecast(self):
        """getVilageFcst: categories, counts, text formats, TMN/TMX, determinism, bad base_time."""
        path = "%s?%s&dataType=JSON&base_date=20250609&base_time=0500&nx=61&ny=126&pageNo=1&numOfRows=2000" % (VILAGE, DGK_Q)
        doc = self.srv.json(path)
        self.assertEqual(doc["response"]["header"], {"resultCode": "00", "resultMsg": "NORMAL_SERVICE"})
        items = doc["response"]["body"]["items"]["item"]
        self.assertEqual(doc["response"]["body"]["totalCount"], len(items))
        self.assertEqual(len(items), 90 * 12 + 4 + 4)            # 06h day0 .. 23h day3, + TMN/TMX
        cats = {i["category"] for i in items}
        self.assertTrue({"TMP", "POP", "PTY", "PCP", "SNO", "REH", "SKY", "WSD", "TMN", "TMX"} <= cats)
        for i in items:
            self.assertEqual(set(i), {"baseDate", "baseTime", "category", "fcstDate", "fcstTime", "fcstValue", "nx", "ny"})
            self.assertEqual((i["nx"], i["ny"]), (61, 126))
            if i["category"] == "PCP":
                self.assertRegex(i["fcstValue"], r"^(강수없음|1mm 미만|\d+\.\dmm|30\.0~50\.0mm|50\.0mm 이상)$")
            if i["category"] == "SNO":
                self.assertRegex(i["fcstValue"], r"^(적설없음|1cm 미만|\d\.\dcm|5\.0cm 이상)$")
            if i["category"] == "TMN":
                self.assertEqual(i["fcstTime"], "0600")
            if i["category"] == "TMX":
                self.assertEqual(i["fcstTime"], "1500")
        self.assertEqual(self.srv.get(path)[2], self.srv.get(path)[2])
        bad = self.srv.json(path.replace("base_time=0500", "base_time=0600"))
        self.assertEqual(bad["response"]["header"]["resultCode"], "10")

    def test_openmeteo_archive(self):
        """Archive: daily values equal the file, null where it lacks days, consistent hourly."""
        with open(DATA / "weather" / "openmeteo_daily_seongsu_2022-11_2025-05.csv", encoding="utf-8") as fh:
            want = {r["date"]: r for r in csv.DictReader(fh)}
        doc = self.srv.json("/v1/archive?%s&start_date=2024-01-01&end_date=2024-01-31"
                            "&daily=temperature_2m_mean,precipitation_sum,rain_sum,snowfall_sum"
                            "&hourly=temperature_2m,precipitation,snowfall" % OM_Q)
        self.assertEqual(set(doc["daily"]), {"time", "temperature_2m_mean", "precipitation_sum", "rain_sum", "snowfall_sum"})
        self.assertEqual(set(doc["hourly"]), {"time", "temperature_2m", "precipitation", "snowfall"})
        self.assertEqual(doc["daily_units"]["temperature_2m_mean"], "°C")
        self.assertEqual(doc["utc_offset_seconds"], 32400)
        self.assertTrue(any(d not in want for d in doc["daily"]["time"]))      # the file has gaps
        for i, day in enumerate(doc["daily"]["time"]):
            hours = slice(24 * i, 24 * i + 24)
            if day not in want:
                self.assertIsNone(doc["daily"]["temperature_2m_mean"][i])
                self.assertEqual(doc["hourly"]["precipitation"][hours], [None] * 24)
                continue
            self.assertEqual(doc["daily"]["temperature_2m_mean"][i], float(want[day]["temperature_2m_mean_c"]))
            self.assertEqual(doc["daily"]["precipitation_sum"][i], float(want[day]["precipitation_sum_mm"]))
            self.assertEqual(doc["daily"]["snowfall_sum"][i], float(want[day]["snowfall_sum_cm"]))
            self.assertEqual(doc["hourly"]["time"][24 * i], day + "T00:00")
            self.assertAlmostEqual(sum(doc["hourly"]["temperature_2m"][hours]) / 24,
                                   doc["daily"]["temperature_2m_mean"][i], delta=0.06)
            self.assertAlmostEqual(sum(doc["hourly"]["precipitation"][hours]), doc["daily"]["precipitation_sum"][i], places=6)
            self.assertAlmostEqual(sum(doc["hourly"]["snowfall"][hours]), doc["daily"]["snowfall_sum"][i], places=6)
        early = self.srv.json("/v1/archive?%s&start_date=2022-11-27&end_date=2022-11-29&daily=temperature_2m_mean"
                              "&hourly=temperature_2m" % OM_Q)
        self.assertEqual(early["daily"]["temperature_2m_mean"], [None, None, 6.3])
        self.assertEqual(early["hourly"]["temperature_2m"][:48], [None] * 48)
        self.assertNotIn("hourly_units", self.srv.json(
            "/v1/archive?%s&start_date=2024-01-01&end_date=2024-01-01&daily=rain_sum" % OM_Q))

    def test_openmeteo_errors(self):
        """Bad parameters give HTTP 400 {"error": true, "reason": ...}."""
        for query in ("longitude=127&start_date=2024-01-01&end_date=2024-01-02&daily=rain_sum&timezone=Asia%2FSeoul",
                      "%s&start_date=20240101&end_date=2024-01-02&daily=rain_sum" % OM_Q,
                      "%s&start_date=2024-01-05&end_date=2024-01-02&daily=rain_sum" % OM_Q,
                      "%s&start_date=2024-01-01&end_date=2024-01-02&daily=bogus_var" % OM_Q,
                      "%s&start_date=2025-06-01&end_date=2025-07-02&daily=rain_sum" % OM_Q,
                      "latitude=37.5&longitude=127&start_date=2024-01-01&end_date=2024-01-02&daily=rain_sum"):
            status, _, body = self.srv.get("/v1/archive?" + query)
            self.assertEqual(status, 400, query)
            doc = json.loads(body)
            self.assertIs(doc["error"], True)
            self.assertTrue(doc["reason"])

    def test_openmeteo_forecast(self):
        """Forecast: 16 days from today by default, forecast_days honoured, deterministic."""
        path = "/v1/forecast?%s&daily=temperature_2m_max,precipitation_sum&hourly=temperature_2m,precipitation_probability" % OM_Q
        doc = self.srv.json(path)
        self.assertEqual(doc["daily"]["time"][0], TODAY)
        self.assertEqual(len(doc["daily"]["time"]), 16)
        self.assertEqual(len(doc["hourly"]["temperature_2m"]), 16 * 24)
        for i in range(16):
            self.assertEqual(doc["daily"]["temperature_2m_max"][i], max(doc["hourly"]["temperature_2m"][24 * i:24 * i + 24]))
        self.assertEqual(doc, self.srv.json(path))
        self.assertEqual(len(self.srv.json(path + "&forecast_days=3")["daily"]["time"]), 3)
        self.assertEqual(self.srv.get(path + "&forecast_days=17")[0], 400)


# ----------------------------------------------------------------------------------------

class SyntheticTest(unittest.TestCase):
    """Synthetic mode: marker, determinism, Seongsu-like shape."""

    @classmethod
    def setUpClass(cls):
        """Two synthetic servers: an empty --data, and --synthetic (with data when present)."""
        cls.a = Server("--data", "")
        cls.b = Server("--synthetic", "--data", str(DATA) if HAVE_DATA else "/nonexistent/replay-data")

    @classmethod
    def tearDownClass(cls):
        """Stop them."""
        cls.a.stop()
        cls.b.stop()

    def seongsu(self, day):
        """Synthetic Seongsu boardings of a date."""
        row = seongsu_row(self.a.json(seoul("CardSubwayStatsNew", 101, 101, day.strftime("%Y%m%d"))))
        return row["GTON_TNOPE"]

    def test_marker_and_determinism(self):
        """Every route carries X-Replay-Synthetic: 1 and both servers give identical bytes."""
        paths = [seoul("CardSubwayStatsNew", 1, 1000, "20240105"), seoul("CardSubwayTime", 1, 1000, "202404"),
                 "%s?%s&solYear=2024&solMonth=05&_type=json" % (KASI, DGK_Q),
                 asos("20240101", "00", "20240102", "23"),
                 "%s?%s&dataType=JSON&base_date=20250609&base_time=1700&nx=61&ny=126&numOfRows=500" % (VILAGE, DGK_Q),
                 "/v1/archive?%s&start_date=2024-01-01&end_date=2024-01-03&daily=temperature_2m_mean&hourly=rain" % OM_Q,
                 "/v1/forecast?%s&daily=precipitation_sum" % OM_Q]
        for path in paths:
            sa, ha, ba = self.a.get(path)
            sb, hb, bb = self.b.get(path)
            self.assertEqual((sa, sb), (200, 200), path)
            self.assertEqual(ha.get("x-replay-synthetic"), "1", path)
            self.assertEqual(hb.get("x-replay-synthetic"), "1", path)
            self.assertEqual(ba, bb, path)
            self.assertNotIn(b"INFO-200", ba)

    def test_day_type_levels_growth_and_availability(self):
        """Weekday > Saturday > Sunday, holidays low, yearly growth, ~3-day delay."""
        start = dt.date(2024, 3, 4)                                        # a Monday
        days = [start + dt.timedelta(days=i) for i in range(56)]
        by_kind = {"weekday": [], "sat": [], "sun": []}
        for day in days:
            kind = "sat" if day.weekday() == 5 else "sun" if day.weekday() == 6 else "weekday"
            by_kind[kind].append(self.seongsu(day))
        wd, sat, sun = (statistics.mean(by_kind[k]) for k in ("weekday", "sat", "sun"))
        self.assertGreater(wd, sat * 1.2)
        self.assertGreater(sat, sun * 1.15)
        self.assertLess(self.seongsu(dt.date(2024, 8, 15)), 0.6 * wd)      # 광복절, a Thursday
        old = statistics.mean(self.seongsu(dt.date(2016, 3, 7) + dt.timedelta(days=i)) for i in range(5))
        new = statistics.mean(self.seongsu(dt.date(2024, 3, 4) + dt.timedelta(days=i)) for i in range(5))
        self.assertGreater(new, old * 1.15)
        self.assertEqual(self.a.json(seoul("CardSubwayStatsNew", 1, 5, "20250608"))["RESULT"]["CODE"], "INFO-200")
        self.assertIn("CardSubwayStatsNew", self.a.json(seoul("CardSubwayStatsNew", 1, 5, "20250607")))

    def test_hour_profile(self):
        """Synthetic CardSubwayTime: alightings peak at 8 h, boardings at 18-19 h."""
        row = seongsu_row(self.a.json(seoul("CardSubwayTime", 1, 1000, "202404")), "CardSubwayTime")
        on = [row["HR_%d_GET_ON_NOPE" % h] for h in range(24)]
        off = [row["HR_%d_GET_OFF_NOPE" % h] for h in range(24)]
        self.assertEqual(off.index(max(off)), 8)
        self.assertIn(on.index(max(on)), (18, 19))
        self.assertEqual(row["JOB_YMD"], "20240503")

    def test_synthetic_holiday_quirks(self):
        """Synthetic KASI answers keep the quirks: '' for none, an object for one."""
        def items(month):
            """items of a synthetic 2024 month."""
            return self.a.json("%s?%s&solYear=2024&solMonth=%s&_type=json" % (KASI, DGK_Q, month))["response"]["body"]["items"]
        self.assertEqual(items("02"), "")
        self.assertEqual(items("03")["item"]["locdate"], 20240301)
        self.assertEqual([i["locdate"] for i in items("10")["item"]], [20241003, 20241009])


# ----------------------------------------------------------------------------------------

class FaultTest(unittest.TestCase):
    """Fault injection and the admin API (synthetic server: needs no data)."""

    DAY = seoul("CardSubwayStatsNew", 95, 105, "20240105")    # Seongsu is the 7th row here

    @classmethod
    def setUpClass(cls):
        """One synthetic server for every fault."""
        cls.srv = Server("--synthetic")

    @classmethod
    def tearDownClass(cls):
        """Stop it."""
        cls.srv.stop()

    def setUp(self):
        """No rule, fresh stats."""
        self.assertEqual(self.srv.request("DELETE", "/_faults")[0], 200)
        self.assertEqual(self.srv.request("POST", "/_reset")[0], 200)

    def rows(self, body):
        """Rows of a CardSubwayStatsNew body."""
        return json.loads(body)["CardSubwayStatsNew"]["row"]

    def test_http500_times_and_stats(self):
        """http500 for the first 2 matching requests only; counted in /_stats."""
        self.srv.faults({"match": "CardSubwayStatsNew", "fault": "http500", "times": 2})
        statuses = [self.srv.get(self.DAY)[0] for _ in range(3)]
        self.assertEqual(statuses, [500, 500, 200])
        self.assertEqual(self.srv.get(asos("20240101", "00", "20240101", "01"))[0], 200)
        stats = self.srv.stats()
        self.assertEqual(stats["requests"], {"CardSubwayStatsNew": 3, "getWthrDataList": 1})
        self.assertEqual(stats["faults"], {"http500": 2})
        self.assertEqual(stats["status"], {"500": 2, "200": 2})
        self.assertEqual(stats["rules"][0]["hits"], 2)
        self.assertEqual(self.srv.request("POST", "/_reset")[0], 200)
        self.assertEqual(self.srv.stats()["total"], 0)

    def test_day_filter(self):
        """A rule with "day" hits only that day."""
        self.srv.faults({"match": "CardSubwayStatsNew", "day": "20240105", "fault": "http500"})
        self.assertEqual(self.srv.get(seoul("CardSubwayStatsNew", 1, 5, "20240104"))[0], 200)
        self.assertEqual(self.srv.get(seoul("CardSubwayStatsNew", 1, 5, "20240105"))[0], 500)
        self.srv.faults({"match": "/v1/archive", "day": "2024-01-05", "fault": "http500"})
        self.assertEqual(self.srv.get("/v1/archive?%s&start_date=2024-01-05&end_date=2024-01-05&daily=rain_sum" % OM_Q)[0], 500)

    def test_latency(self):
        """latency delays then answers normally."""
        self.srv.faults({"match": "CardSubwayStatsNew", "fault": "latency", "ms": 300})
        t0 = time.monotonic()
        status, headers, _ = self.srv.get(self.DAY)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual(status, 200)
        self.assertEqual(headers["x-replay-fault"], "latency")

    def test_hang(self):
        """hang outlasts the client timeout; the server keeps serving others."""
        self.srv.faults({"match": "CardSubwayStatsNew", "fault": "hang", "ms": 2000, "times": 1})
        with self.assertRaises((socket.timeout, TimeoutError)):
            self.srv.get(self.DAY, timeout=0.4)
        t0 = time.monotonic()
        self.assertEqual(self.srv.get(self.DAY)[0], 200)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(self.srv.stats()["faults"], {"hang": 1})

    def test_truncate_short_and_lie(self):
        """truncate: half the body with a matching or a lying Content-Length."""
        full = self.srv.get(self.DAY)[2]
        self.srv.faults({"match": "CardSubwayStatsNew", "fault": "truncate", "mode": "short", "times": 1})
        status, headers, body = self.srv.get(self.DAY)
        self.assertEqual((status, len(body), int(headers["content-length"])), (200, len(full) // 2, len(full) // 2))
        self.assertEqual(body, full[:len(full) // 2])
        with self.assertRaises(ValueError):
            json.loads(body)
        self.srv.faults({"match": "CardSubwayStatsNew", "fault": "truncate", "mode": "lie", "times": 1})
        with self.assertRaises(http.client.IncompleteRead) as ctx:
            self.srv.get(self.DAY)
        self.assertEqual(len(ctx.exception.partial), len(full) // 2)
        self.assertEqual(self.srv.get(self.DAY)[2], full)

    def test_slow_drip(self):
        """slow_drip sends the same body in chunks with pauses."""
        full = self.srv.get(self.DAY)[2]
        self.srv.faults({"match": "CardSubwayStatsNew", "fault": "slow_drip", "ms": 60, "chunk": 300})
        t0 = time.monotonic()
        body = self.srv.get(self.DAY)[2]
        self.assertGreaterEqual(time.monotonic() - t0, 0.06 * ((len(full) - 1) // 300))
        self.assertEqual(body, full)

    def test_nodata_per_family(self):
        """nodata: INFO-200, KMA 03, KASI 03 with items '', Open-Meteo nulls."""
        self.srv.faults({"fault": "nodata"})
        self.assertEqual(self.srv.json(self.DAY)["RESULT"]["CODE"], "INFO-200")
        self.assertEqual(self.srv.json(asos("20240101", "00", "20240101", "01")),
                         {"response": {"header": {"resultCode": "03", "resultMsg": "NO_DATA"}}})
        kasi = self.srv.json("%s?%s&solYear=2024&solMonth=05&_type=json" % (KASI, DGK_Q))
        self.assertEqual((kasi["response"]["header"]["resultCode"], kasi["response"]["body"]["items"]), ("03", ""))
        om = self.srv.json("/v1/archive?%s&start_date=2024-01-01&end_date=2024-01-02&daily=temperature_2m_mean" % OM_Q)
        self.assertEqual(om["daily"], {"time": ["2024-01-01", "2024-01-02"], "temperature_2m_mean": [None, None]})

    def test_xml_error_quota_seoul_error(self):
        """xml_error codes, quota per family, seoul_error code."""
        self.srv.faults({"match": "getWthrDataList", "fault": "xml_error", "code": 31},
                        {"match": "getRestDeInfo", "fault": "xml_error"},
                        {"match": "CardSubwayStatsNew/1/", "fault": "seoul_error", "code": "ERROR-600"},
                        {"match": "CardSubwayStatsNew/95/", "fault": "quota"},
                        {"match": "getVilageFcst", "fault": "quota"},
                        {"match": "getUltraSrtNcst", "fault": "quota", "mode": "xml"},
                        {"match": "/v1/", "fault": "quota"})
        body = self.srv.get(asos("20240101", "00", "20240101", "01"))[2].decode()
        self.assertIn("<returnAuthMsg>DEADLINE_HAS_EXPIRED_ERROR</returnAuthMsg><returnReasonCode>31</returnReasonCode>", body)
        self.assertEqual(self.srv.get("%s?%s&solYear=2024&solMonth=05&_type=json" % (KASI, DGK_Q))[2].decode(), GATEWAY_30)
        self.assertEqual(self.srv.json(seoul("CardSubwayStatsNew", 1, 5, "20240105"))["RESULT"]["CODE"], "ERROR-600")
        self.assertEqual(self.srv.json(self.DAY)["RESULT"]["CODE"], "ERROR-500")
        fc = self.srv.json("%s?%s&dataType=JSON&base_date=20250609&base_time=0500&nx=61&ny=126" % (VILAGE, DGK_Q))
        self.assertEqual(fc["response"]["header"]["resultCode"], "22")
        ncst = self.srv.get("/1360000/VilageFcstInfoService_2.0/getUltraSrtNcst?%s&dataType=JSON&base_date=20250609"
                            "&base_time=0600&nx=61&ny=126" % DGK_Q)[2].decode()
        self.assertIn("<returnReasonCode>22</returnReasonCode>", ncst)
        status, _, body = self.srv.get("/v1/forecast?%s&daily=rain_sum" % OM_Q)
        self.assertEqual(status, 429)
        self.assertIs(json.loads(body)["error"], True)

    def test_row_transforms(self):
        """wrong_types, float/string counts, missing/extra fields, duplicate rows."""
        normal = self.rows(self.srv.get(self.DAY)[2])
        self.assertEqual(normal[6]["SBWY_STNS_NM"], "성수")
        self.srv.faults({"fault": "wrong_types", "times": 1}, {"fault": "float_counts", "times": 1},
                        {"fault": "string_counts", "times": 1}, {"fault": "missing_fields", "times": 1},
                        {"fault": "extra_fields", "times": 1}, {"fault": "duplicate_rows", "times": 1})
        rows = self.rows(self.srv.get(self.DAY)[2])                                   # wrong_types
        self.assertEqual(rows[6]["GTON_TNOPE"], "abc")
        self.assertEqual(rows[5], normal[5])
        raw = self.srv.get(self.DAY)[2]                                               # float_counts
        self.assertIn(b'"GTON_TNOPE":%d.0' % normal[6]["GTON_TNOPE"], raw)
        self.assertTrue(all(isinstance(r["GTOFF_TNOPE"], float) for r in self.rows(raw)))
        rows = self.rows(self.srv.get(self.DAY)[2])                                   # string_counts
        self.assertEqual(rows[6]["GTON_TNOPE"], str(normal[6]["GTON_TNOPE"]))
        self.assertTrue(all(isinstance(r["GTON_TNOPE"], str) for r in rows))
        rows = self.rows(self.srv.get(self.DAY)[2])                                   # missing_fields
        self.assertNotIn("GTON_TNOPE", rows[6])
        self.assertEqual(sum("GTON_TNOPE" in r for r in rows), len(rows) - 1)
        rows = self.rows(self.srv.get(self.DAY)[2])                                   # extra_fields
        self.assertTrue(all("X_REPLAY_EXTRA" in r and "EXTRA_COUNT_NOPE" in r for r in rows))
        doc = self.srv.json(self.DAY)                                                 # duplicate_rows
        rows = doc["CardSubwayStatsNew"]["row"]
        self.assertEqual(len(rows), len(normal) + 2)
        self.assertEqual(sum(r["SBWY_STNS_NM"] == "성수" for r in rows), 2)
        self.assertEqual(doc["CardSubwayStatsNew"]["list_total_count"], 607)
        self.assertEqual(self.rows(self.srv.get(self.DAY)[2]), normal)                 # all used up
        self.assertEqual(self.srv.stats()["faults"], {k: 1 for k in (
            "wrong_types", "float_counts", "string_counts", "missing_fields", "extra_fields", "duplicate_rows")})

    def test_transforms_on_other_routes(self):
        """The same faults on data.go.kr and Open-Meteo answers."""
        self.srv.faults({"match": "getRestDeInfo", "fault": "string_counts"},
                        {"match": "getWthrDataList", "fault": "missing_fields"},
                        {"match": "/v1/archive", "fault": "wrong_types"})
        kasi = self.srv.json("%s?%s&solYear=2024&solMonth=03&_type=json" % (KASI, DGK_Q))
        self.assertEqual(kasi["response"]["body"]["items"]["item"]["locdate"], "20240301")
        items = self.srv.json(asos("20240101", "00", "20240101", "02"))["response"]["body"]["items"]["item"]
        self.assertNotIn("ta", items[0])
        self.assertIn("ta", items[1])
        om = self.srv.json("/v1/archive?%s&start_date=2024-01-01&end_date=2024-01-02&daily=temperature_2m_mean" % OM_Q)
        self.assertEqual(om["daily"]["temperature_2m_mean"][0], "abc")

    def test_endless_pages(self):
        """endless_pages: a huge total, pages past the end empty (or the first page again)."""
        normal = self.srv.json(seoul("CardSubwayStatsNew", 1, 1000, "20240105"))["CardSubwayStatsNew"]
        self.assertEqual(normal["list_total_count"], 607)
        self.assertEqual(self.srv.json(seoul("CardSubwayStatsNew", 1001, 2000, "20240105"))["RESULT"]["CODE"], "INFO-200")
        self.srv.faults({"match": "CardSubwayStatsNew", "fault": "endless_pages"},
                        {"match": "getWthrDataList", "fault": "endless_pages", "total": 123456},
                        {"match": "getRestDeInfo", "fault": "endless_pages"})
        first = self.srv.json(seoul("CardSubwayStatsNew", 1, 1000, "20240105"))["CardSubwayStatsNew"]
        self.assertEqual((first["list_total_count"], first["row"]), (99999999999, normal["row"]))
        far = self.srv.json(seoul("CardSubwayStatsNew", 5000001, 5001000, "20240105"))["CardSubwayStatsNew"]
        self.assertEqual((far["list_total_count"], far["RESULT"]["CODE"], far["row"]), (99999999999, "INFO-000", []))
        asos1 = self.srv.json(asos("20240101", "00", "20240101", "23", rows=10, page=1))["response"]
        self.assertEqual((asos1["header"]["resultCode"], asos1["body"]["totalCount"], len(asos1["body"]["items"]["item"])),
                         ("00", 123456, 10))
        asos9 = self.srv.json(asos("20240101", "00", "20240101", "23", rows=10, page=9))["response"]
        self.assertEqual((asos9["header"]["resultCode"], asos9["body"]["totalCount"], asos9["body"]["items"], asos9["body"]["pageNo"]),
                         ("00", 123456, "", 9))
        kasi2 = self.srv.json("%s?%s&solYear=2024&solMonth=03&_type=json&numOfRows=100&pageNo=2" % (KASI, DGK_Q))
        self.assertEqual((kasi2["response"]["header"]["resultCode"], kasi2["response"]["body"]["items"],
                          kasi2["response"]["body"]["totalCount"]), ("00", "", 99999999999))
        self.srv.faults({"fault": "endless_pages", "mode": "repeat"})
        again = self.srv.json(seoul("CardSubwayStatsNew", 5000001, 5001000, "20240105"))["CardSubwayStatsNew"]
        self.assertEqual((again["list_total_count"], again["row"]), (99999999999, normal["row"]))
        kasi2 = self.srv.json("%s?%s&solYear=2024&solMonth=03&_type=json&numOfRows=100&pageNo=2" % (KASI, DGK_Q))
        self.assertEqual(kasi2["response"]["body"]["items"]["item"]["locdate"], 20240301)
        self.assertEqual((self.srv.stats()["faults"], self.srv.stats()["rules"][0]["hits"]), ({"endless_pages": 7}, 2))
        status, _, body = self.srv.request("POST", "/_faults", {"rules": [{"fault": "endless_pages", "mode": "forever"}]})
        self.assertEqual(status, 400, body)

    def test_for_ms_window(self):
        """A rule with for_ms applies only that long after the rules were set (an outage)."""
        self.srv.faults({"match": "CardSubwayStatsNew", "fault": "http500", "status": 503, "for_ms": 400})
        t0 = time.monotonic()
        statuses = []
        while time.monotonic() - t0 < 0.3:
            statuses.append(self.srv.get(self.DAY)[0])
        self.assertTrue(statuses and set(statuses) == {503}, statuses)
        while time.monotonic() - t0 < 0.45:
            time.sleep(0.01)
        self.assertEqual(self.srv.get(self.DAY)[0], 200)
        self.assertEqual(self.srv.stats()["faults"], {"http500": len(statuses)})

    def test_admin_api(self):
        """Rule validation, listing, clearing, health."""
        for bad in ({"rules": [{"fault": "explode"}]}, {"rules": [{"fault": "http500", "tims": 2}]},
                    {"rules": [{"fault": "truncate", "mode": "sideways"}]}, {"nope": []},
                    {"rules": [{"fault": "http500", "for_ms": -1}]}):
            status, _, body = self.srv.request("POST", "/_faults", bad)
            self.assertEqual(status, 400, bad)
            self.assertFalse(json.loads(body)["ok"])
        self.srv.faults({"match": "x", "fault": "latency", "ms": 5})
        self.assertEqual(json.loads(self.srv.request("GET", "/_faults")[2])["rules"][0]["fault"], "latency")
        self.srv.request("DELETE", "/_faults")
        self.assertEqual(json.loads(self.srv.request("GET", "/_faults")[2]), {"rules": []})
        health = json.loads(self.srv.request("GET", "/_health")[2])
        self.assertEqual((health["ok"], health["mode"], health["today"]), (True, "synthetic", TODAY))

    def test_echo(self):
        """echo: an error answer repeating the request target, key included, in each mode."""
        kasi = "%s?%s&solYear=2024&solMonth=05&_type=json" % (KASI, DGK_Q)
        self.srv.faults({"match": "CardSubwayStatsNew", "fault": "echo"},
                        {"match": "solMonth=05", "fault": "echo", "mode": "decoded", "pad": 7, "times": 1},
                        {"match": "solMonth=05", "fault": "echo", "mode": "form", "times": 1},
                        {"match": "solMonth=05", "fault": "echo", "times": 1},
                        {"match": "/v1/archive", "fault": "echo"})
        seoul_doc = self.srv.json(self.DAY)["RESULT"]
        self.assertEqual(seoul_doc["CODE"], "ERROR-300")
        self.assertTrue(seoul_doc["MESSAGE"].endswith(" " + self.DAY), seoul_doc["MESSAGE"])
        self.assertIn("/%s/json/" % SEOUL_KEY, seoul_doc["MESSAGE"])
        header = self.srv.json(kasi)["response"]["header"]
        self.assertEqual(header["resultCode"], "10")
        self.assertIn(": ......." + KASI + "?serviceKey=" + DGK_KEY + "&solYear", header["resultMsg"])
        msg = self.srv.json(kasi)["response"]["header"]["resultMsg"]
        self.assertIn("serviceKey=" + DGK_KEY.replace("+", " ") + "&", msg)
        self.assertIn(DGK_Q + "&", self.srv.json(kasi)["response"]["header"]["resultMsg"])
        status, _, body = self.srv.get("/v1/archive?%s&start_date=2024-01-01&end_date=2024-01-02&daily=rain_sum" % OM_Q)
        self.assertEqual(status, 400)
        self.assertIn("start_date=2024-01-01", json.loads(body)["reason"])
        self.assertEqual(self.srv.stats()["faults"], {"echo": 5})
        for bad in ({"fault": "echo", "mode": "shout"}, {"fault": "echo", "pad": -1}, {"fault": "echo", "pad": "9"}):
            self.assertEqual(self.srv.request("POST", "/_faults", {"rules": [bad]})[0], 400, bad)

    def test_redirect(self):
        """redirect: Location on this server (the same target) or on the base URL ``to``."""
        self.srv.faults({"match": "CardSubwayStatsNew", "fault": "redirect", "times": 1},
                        {"match": "getRestDeInfo", "fault": "redirect", "to": "http://127.0.0.2:9", "status": 307})
        status, headers, _ = self.srv.get(self.DAY)
        self.assertEqual((status, headers["location"]), (302, "http://127.0.0.1:%d%s" % (self.srv.port, self.DAY)))
        self.assertEqual(self.srv.get(headers["location"].split("%d" % self.srv.port, 1)[1])[0], 200)
        kasi = "%s?%s&solYear=2024&solMonth=05&_type=json" % (KASI, DGK_Q)
        status, headers, _ = self.srv.get(kasi)
        self.assertEqual((status, headers["location"]), (307, "http://127.0.0.2:9" + kasi))
        for bad in ({"fault": "redirect", "status": 200}, {"fault": "redirect", "to": "ftp://x"},
                    {"fault": "redirect", "to": "http://h/path"}):
            self.assertEqual(self.srv.request("POST", "/_faults", {"rules": [bad]})[0], 400, bad)

    def test_log_redacts_keys(self):
        """One stderr line per request, keys replaced by ***."""
        self.srv.get(self.DAY)
        self.srv.get(asos("20240101", "00", "20240101", "01"))
        self.srv.get(seoul("CardSubwayStatsNew", 1, 5, "20240105", key="someone-elses-key"))
        time.sleep(0.1)
        log = self.srv.stderr()
        self.assertIn("GET /***/json/CardSubwayStatsNew/95/105/20240105 200", log)
        self.assertIn("serviceKey=***&", log)
        for secret in (SEOUL_KEY, DGK_KEY, quote(DGK_KEY, safe=""), "someone-elses-key"):
            self.assertNotIn(secret, log)


# ----------------------------------------------------------------------------------------

class ConcurrencyAndLifecycleTest(unittest.TestCase):
    """32 requests in flight with --latency-ms; clean SIGTERM during a hang."""

    def test_32_concurrent_with_global_latency(self):
        """32 parallel requests delayed 250 ms each finish together, not one after another."""
        srv = Server("--synthetic", "--latency-ms", "250", "--quiet")
        try:
            results, barrier = [], threading.Barrier(32)

            def worker(i):
                """One client."""
                barrier.wait()
                results.append(srv.get(seoul("CardSubwayStatsNew", 1, 10, "202401%02d" % (i % 28 + 1)))[0])

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(32)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(20)
            elapsed = time.monotonic() - t0
            self.assertEqual(results, [200] * 32)
            self.assertGreaterEqual(elapsed, 0.25)
            self.assertLess(elapsed, 3.0)                                  # serial would be 8 s
            self.assertEqual(srv.stats()["total"], 32)
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_sigterm_during_hang(self):
        """SIGTERM ends the server promptly (exit 0) even with a hanging request; port file removed."""
        srv = Server("--synthetic")
        port_file = srv.port_file
        srv.faults({"fault": "hang", "ms": 60000})
        errors = []

        def client():
            """A request that hangs until the server stops."""
            try:
                srv.get(seoul("CardSubwayStatsNew", 1, 5, "20240105"), timeout=30)
            except Exception as exc:        # the connection is closed without an answer
                errors.append(exc)

        t = threading.Thread(target=client)
        t.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        code = srv.proc.wait(timeout=10)
        self.assertEqual(code, 0)
        self.assertLess(time.monotonic() - t0, 5)
        t.join(10)
        self.assertEqual(len(errors), 1)
        self.assertFalse(os.path.exists(port_file))
        self.assertIn("[replay] stopped", srv.stderr())
        srv.stop()


if __name__ == "__main__":
    unittest.main()
