#!/usr/bin/env bash
# System packages the test suite needs beyond Python: Debian's Chromium for the browser tests.
# Installs only what is missing, so it is quick on a machine that has them.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "chromium is missing: install Debian's chromium package (browser tests need it)" >&2
        exit 1
    fi
fi
