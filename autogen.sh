#!/bin/sh
# autogen.sh: generate configure and Makefile.in from the checked-in sources
set -e
cd "$(dirname "$0")"
autoreconf --install --force
