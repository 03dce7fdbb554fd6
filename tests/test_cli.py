"""The command line's dispatch: `s2s COMMAND` builds only the group of parsers that adds COMMAND."""
import argparse

from s2s_cli import GROUP_OF, GROUPS, build_parser
from tests.conftest import run_s2s


def _commands(group) -> set[str]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    group.add_commands(sub)
    return set(sub.choices)


def test_every_command_is_mapped_to_the_group_that_adds_it():
    for group in GROUPS:
        assert {command: GROUP_OF.get(command) for command in _commands(group)} == \
            {command: group for command in _commands(group)}
    assert set(GROUP_OF) == set().union(*(_commands(group) for group in GROUPS))


def test_one_commands_parser_takes_what_the_whole_one_takes():
    argv = ["serve", "--store", "models", "--workers", "3"]
    assert vars(build_parser("serve").parse_args(argv)).keys() == vars(build_parser().parse_args(argv)).keys()
    assert build_parser("serve").parse_args(argv).workers == 3
    # A mistyped command still gets the whole list to choose from.
    mistyped = run_s2s("serv", "--store", "models")
    assert mistyped.returncode == 2 and "invalid choice: 'serv'" in mistyped.stderr and "translate" in mistyped.stderr
