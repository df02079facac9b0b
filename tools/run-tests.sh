#!/bin/bash
# Set up everything the tests need (as root on Debian 12) and run them all.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --test
tools/start-libvirt.sh
exec .venv/bin/tox -e "${TOX_ENVS:-pep8,py3,functional,genconfig,docs,releasenotes}" "$@"
