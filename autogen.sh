#!/bin/sh
# Regenerate the build system: ./autogen.sh && ./configure && make
set -e
cd "$(dirname "$0")"
autopoint --force
autoreconf --install --force --warnings=all,no-portability
