#!/usr/bin/env bash
# The main job: installs mlcore and runs the backend comparison on bundled data, printing the
# table. Arguments are passed to `python -m mlcore.compare` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/pip_install.sh
cd /tmp && exec python3 -m mlcore.compare "$@"
