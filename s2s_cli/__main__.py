from data_prep.exiting import exit_quickly
from s2s_cli import main

exit_quickly(main())
