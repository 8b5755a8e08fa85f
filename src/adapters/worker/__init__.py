"""taskiq integration: broker choice, outbox tasks, scheduler and in-process runners.

Nothing is built at import time: the composition root calls `build_broker`,
registers the tasks on it with `register_tasks`, and hands the result to
`TaskiqDispatcher`, `build_scheduler`, `run_worker` and `run_scheduler`.
"""

from adapters.worker.billing import (
    BILLING_JOBS,
    BillingTasks,
    register_billing_tasks,
    run_billing_round,
)
from adapters.worker.broker import build_broker, finish_in_process_tasks
from adapters.worker.poller import OutboxPoller, PeriodicJob
from adapters.worker.runner import run_worker
from adapters.worker.scheduler import (
    FixedScheduleSource,
    build_scheduler,
    run_scheduler,
)
from adapters.worker.tasks import (
    DELIVER_TASK,
    DRAIN_TASK,
    OutboxTasks,
    PlatformProvider,
    TaskiqDispatcher,
    register_tasks,
)

__all__ = [
    "BILLING_JOBS",
    "DELIVER_TASK",
    "DRAIN_TASK",
    "BillingTasks",
    "FixedScheduleSource",
    "OutboxPoller",
    "OutboxTasks",
    "PeriodicJob",
    "PlatformProvider",
    "TaskiqDispatcher",
    "build_broker",
    "build_scheduler",
    "finish_in_process_tasks",
    "register_billing_tasks",
    "register_tasks",
    "run_billing_round",
    "run_scheduler",
    "run_worker",
]
