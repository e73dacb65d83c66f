"""`python -m ppm_sandbox serve ...` is `ppm-sandbox serve ...`."""

from ppm_sandbox.cli import main

main()
