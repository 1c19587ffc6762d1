"""The `aloft` command line: parse, call one function of a lower layer, render.

Commands live one per module in `aloft.cli.commands`; `aloft.cli.main` registers them.
No business logic here: building, configuration and deploying belong to the layers below.
"""
