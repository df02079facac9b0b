# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The ``nova-realtime`` console script.

Importing the command (oslo.*, libvirt, lxml) takes a noticeable moment;
Ctrl-C, SIGTERM or SIGHUP in that moment must end the process quietly with
128 + the signal number, like at any other time, not with Python's
traceback of whatever module was being imported. So the handlers are in
place before the command module is imported, which is why that import is
inside main().
"""

import signal
import sys


def _exit_on_signal(signum, _frame):
    # SystemExit, not KeyboardInterrupt: nothing prints a traceback for it,
    # and the driver's clean-up (``except BaseException``) still runs.
    sys.exit(128 + signum)


def exit_on_signals(signums):
    """Make each signal of ``signums`` end the process by SystemExit(128 +
    signal), raised where the main thread is, so clean-ups run.
    """
    for signum in signums:
        signal.signal(signum, _exit_on_signal)


def main():
    exit_on_signals((signal.SIGINT, signal.SIGTERM, signal.SIGHUP))
    from nova.cmd import realtime
    return realtime.main()


if __name__ == '__main__':
    sys.exit(main())
