"""The stage model: what one stage of a service is, worked out once (docs/contributing.md).

`stage_of(service, account)` gives a `Stage`: its functions with their physical names, Lambda
environment and grants, its routes, schedules and their rule names, event source bindings,
resources with their names and ARNs, async settings and static files, every CloudFormation
value of the config resolved. Both providers translate it and derive nothing themselves.
"""

from aloft.stage.build import stage_of
from aloft.stage.names import Account, StageNames
from aloft.stage.records import Stage

__all__ = ["Account", "Stage", "StageNames", "stage_of"]
