#!/bin/sh
# Installs Debian's wrk, the HTTP load generator the "similar" benchmark measures
# requests/s with (against `textlatent serve` on 127.0.0.1). Without root or apt-get it
# only says so; the benchmark then records requests/s from its Python clients alone.
if command -v wrk >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's wrk for the HTTP benchmark ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk) \
        >/tmp/textlatent-apt-wrk.log 2>&1 || { echo "apt-get install wrk failed: see /tmp/textlatent-apt-wrk.log"; exit 1; }
    exit 0
fi
echo "note: wrk is not installed and this user cannot install it (apt-get install wrk);" \
     "the similar-words benchmark will report requests/s from Python clients only"
exit 0
