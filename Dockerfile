# daily_seongsu in a container: PostgreSQL, the extension, pg_cron, preloaded.
#   docker build -t daily_seongsu:pg15 .                                          PostgreSQL 15, Debian bookworm
#   docker build --build-arg PG_MAJOR=17 --build-arg DEBIAN=trixie -t daily_seongsu:pg17 .
# Running it, the volume, keys and upgrades: docs/containers.md.
# BASE_IMAGE is for tests that build from a locally imported root (test/container.sh).
ARG PG_MAJOR=15
ARG DEBIAN=bookworm
ARG BASE_IMAGE=debian:${DEBIAN}-slim

# Build: compile and install into a staging root, and list the Debian
# packages that hold the libraries the module links to.
FROM ${BASE_IMAGE} AS build
ARG PG_MAJOR
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc make libc6-dev binutils \
        postgresql-server-dev-${PG_MAJOR} libcurl4-openssl-dev libjson-c-dev; \
    rm -rf /var/lib/apt/lists/*
COPY . /src
WORKDIR /src
# A user build: warnings do not stop it (-Werror is for CI and developers).
RUN set -eux; \
    pg_config=/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config; \
    make -j"$(nproc)" PG_CONFIG="$pg_config"; \
    make install PG_CONFIG="$pg_config" DESTDIR=/out/root; \
    objdump -p /out/root/usr/lib/postgresql/${PG_MAJOR}/lib/daily_seongsu.so \
      | awk '$1 == "NEEDED" { print "*/" $2 }' \
      | xargs dpkg-query -S | cut -d: -f1 | sort -u > /out/runtime-packages; \
    cat /out/runtime-packages

# Runtime: the server, pg_cron, the module's libraries and CA certificates
# (HTTPS to Open-Meteo), no compiler.
FROM ${BASE_IMAGE}
ARG PG_MAJOR
COPY --from=build /out/runtime-packages /usr/share/daily_seongsu/runtime-packages
RUN set -eux; \
    mkdir -p /etc/postgresql-common; \
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        postgresql-${PG_MAJOR} postgresql-${PG_MAJOR}-cron ca-certificates \
        $(cat /usr/share/daily_seongsu/runtime-packages); \
    rm -rf /var/lib/apt/lists/*
COPY --from=build /out/root/ /
COPY docker/postgresql.conf /etc/daily_seongsu/postgresql.conf
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 755 /usr/local/bin/docker-entrypoint.sh && mkdir -p /docker-entrypoint-initdb.d

ENV PG_MAJOR=${PG_MAJOR} \
    PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
VOLUME /var/lib/postgresql/data
EXPOSE 5432
# SIGINT: PostgreSQL's fast shutdown (open transactions roll back, no recovery at the next start).
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
