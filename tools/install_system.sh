#!/bin/sh
# Install the Debian packages the tests need when they are missing and this user can:
#   chromium    the real-browser tests (Playwright's own browser download cannot work offline)
#   bubblewrap  the sandbox that autograding runs every submission in (docs/teaching.md)
missing=""
{ [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; } || missing="$missing chromium"
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages:$missing (about a minute)..."
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; then
    exit 0
  fi
  echo "warning: could not install$missing; the tests that need them are skipped with that reason" >&2
  exit 0
fi
echo "note: missing Debian packages:$missing. Install them (sudo apt-get install$missing) to run the" \
     "browser and sandboxed-grading tests; until then those tests are skipped with this reason." >&2
exit 0
