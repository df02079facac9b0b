#!/bin/bash
# Set up everything the tests need (as root on Debian 12) and run them all.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --test
tools/start-libvirt.sh
# What a real-time operator does to a host (the functional tests also set
# and restore kernel.sched_rt_runtime_us themselves).
tools/prepare-host.sh
exec .venv/bin/tox -e "${TOX_ENVS:-pep8,py3,functional,genconfig,docs,releasenotes}" "$@"
