#!/bin/sh
# Installs Debian's Chromium for the real-browser test (tests/test_browser.py), which
# drives it with Playwright's Python package: Playwright's own browser download cannot
# work on machines without internet access, the Debian package can.
# Without root or apt-get it only says so; the browser test then skips (fails under CI=true).
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser test ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) \
        >/tmp/textlatent-apt.log 2>&1 || { echo "apt-get install chromium failed: see /tmp/textlatent-apt.log"; exit 1; }
    exit 0
fi
echo "note: chromium is not installed and this user cannot install it (apt-get install chromium);" \
     "the browser test will skip"
exit 0
