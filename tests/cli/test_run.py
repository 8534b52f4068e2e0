"""``flowc run`` end to end, in a real process: exit codes, messages, output."""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def result_value(stdout: str) -> Any:
    """The flow's result from the ``result: REPR`` line (a literal in these tests)."""
    line = next(line for line in stdout.splitlines() if line.startswith("result: "))
    return ast.literal_eval(line[len("result: ") :])


# --------------------------------------------------------------------------- success


def test_runs_an_unmodified_prefect_file_once(flowc: Any) -> None:
    result = flowc("run", "prefect_hello.py")
    assert result.code == 0, result.stderr
    assert result.stdout.count("Hello Marvin!") == 1  # ran at import, not a second time
    assert "<class 'str'>" in result.stdout
    assert "flow run 'hello-flow-" in result.stdout
    assert "Completed" in result.stdout
    assert result.stderr == ""


def test_summary_lists_tasks_and_counts(flowc: Any) -> None:
    result = flowc("run", "graph.py:graph-flow")
    assert result.code == 0, result.stderr
    for name in ("announce", "source", "square", "total", "flow:inner-flow"):
        assert name in result.stdout
    assert "result: 10" in result.stdout


def test_quiet_prints_only_what_tasks_print(flowc: Any) -> None:
    result = flowc("run", "module_call.py", "--quiet")
    assert result.code == 0
    assert result.stdout == "RAN import\n"
    assert result.stderr == ""


def test_python_m_flowc_and_help(flowc: Any) -> None:
    result = flowc("run", "--help")
    assert result.code == 0
    assert "FILE[:FLOW]" in result.stdout
    assert "--param" in result.stdout and "--strict" in result.stdout


def test_main_guard_does_not_run(flowc: Any) -> None:
    result = flowc("run", "main_guard.py")
    assert result.code == 0, result.stderr
    assert "result: 'guarded ran'" in result.stdout
    assert "no task runs" in result.stdout


def test_sibling_module_imports_work(flowc: Any) -> None:
    result = flowc("run", "uses_sibling.py", "-p", "word=hey")
    assert result.code == 0, result.stderr
    assert "result: 'HEY!'" in result.stdout


def test_async_flow(flowc: Any) -> None:
    result = flowc("run", "async_flow.py", "-p", "x=5")
    assert result.code == 0, result.stderr
    assert "result: 15" in result.stdout


def test_runs_from_another_directory(flowc: Any, flows_dir: Path, tmp_path: Path) -> None:
    result = flowc("run", flows_dir / "two_flows.py:my_flow", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "result: 4" in result.stdout


# --------------------------------------------------------------------------- runs made at import


def test_module_level_call_runs_once(flowc: Any) -> None:
    result = flowc("run", "module_call.py")
    assert result.code == 0
    assert result.stdout.count("RAN ") == 1
    assert "result: 'import'" in result.stdout


def test_module_level_call_with_params_runs_again_with_them(
    flowc: Any, read_report: Any, report_path: Path
) -> None:
    result = flowc("run", "module_call.py", "-p", "label=again", "--report", report_path)
    assert result.code == 0, result.stderr
    assert result.stdout.count("RAN ") == 2
    assert "RAN again" in result.stdout
    assert "result: 'again'" in result.stdout
    assert read_report(report_path)["result"] == "'again'"


def test_module_level_call_that_fails_is_the_flow_failing(
    flowc: Any, read_report: Any, tmp_path: Path
) -> None:
    path = tmp_path / "fails_at_import.py"
    path.write_text(
        "from flowc import flow\n\n"
        "@flow\n"
        "def broken():\n"
        "    raise ValueError('bad input')\n\n"
        "broken()\n"
    )
    result = flowc("run", path, "--report", tmp_path / "r.json")
    assert result.code == 1
    assert "ValueError: bad input" in result.stderr
    assert "raised while loading" not in result.stderr
    assert "flow run 'broken-" in result.stderr and "Failed" in result.stderr
    assert read_report(tmp_path / "r.json")["state"]["type"] == "FAILED"


def test_runner_override_applies_to_import_time_runs(flowc: Any, tmp_path: Path) -> None:
    path = tmp_path / "pids.py"
    path.write_text(
        "import os\n"
        "from prefect import flow, task\n\n"
        "@task\n"
        "def pid():\n"
        "    return os.getpid()\n\n"
        "@flow\n"
        "def pids():\n"
        "    return [os.getpid(), pid.submit().result()]\n\n"
        "pids()\n"
    )
    threads = flowc("run", path)
    processes = flowc("run", path, "--runner", "processes", "--workers", "1")
    assert threads.code == 0 and processes.code == 0, processes.stderr
    flow_pid, task_pid = result_value(threads.stdout)
    assert flow_pid == task_pid
    flow_pid, task_pid = result_value(processes.stdout)
    assert flow_pid != task_pid


# --------------------------------------------------------------------------- failures


def test_failing_flow_exits_1_with_user_traceback_only(flowc: Any) -> None:
    result = flowc("run", "failing.py")
    assert result.code == 1
    assert "ValueError: value 5 is too large" in result.stderr
    assert 'failing.py", line 8, in check_config' in result.stderr
    assert 'failing.py", line 19, in failing_flow' in result.stderr
    assert "flowc/runtime" not in result.stderr and "flowc\\runtime" not in result.stderr
    assert "Failed" in result.stderr
    assert "validate" in result.stdout  # the summary still shows what ran


def test_failing_task_in_worker_process_shows_worker_traceback(flowc: Any, tmp_path: Path) -> None:
    path = tmp_path / "remote_fail.py"
    path.write_text(
        "from flowc import flow, task\n\n"
        "@task\n"
        "def boom(x):\n"
        "    raise ValueError(f'bad {x}')\n\n"
        "@flow\n"
        "def remote_fail():\n"
        "    return boom.submit(1).result()\n"
    )
    result = flowc("run", path, "--runner", "processes", "--workers", "1", "-q")
    assert result.code == 1
    assert "Worker traceback:" in result.stderr
    assert "line 5, in boom" in result.stderr
    assert "ValueError: bad 1" in result.stderr
    assert "calls.py" not in result.stderr


def test_completed_flow_with_failed_task_exits_0(flowc: Any) -> None:
    result = flowc("run", "swallowed.py")
    assert result.code == 0
    assert "result: 'done anyway'" in result.stdout
    assert "task run" not in result.stderr


def test_strict_fails_on_failed_task_and_names_it(flowc: Any) -> None:
    result = flowc("run", "swallowed.py", "--strict")
    assert result.code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("task run ")]
    assert len(lines) == 1
    assert lines[0].startswith("task run 'explode-")
    assert "(explode) Failed: Task run encountered an exception RuntimeError: kaboom" in lines[0]


def test_strict_passes_a_clean_run(flowc: Any) -> None:
    assert flowc("run", "two_flows.py:my_flow", "--strict", "-q").code == 0


def test_import_error_shows_user_traceback_exit_1(flowc: Any) -> None:
    result = flowc("run", "import_error.py")
    assert result.code == 1
    assert "KeyError: 'DATABASE_URL'" in result.stderr
    assert 'import_error.py", line 7, in load_settings' in result.stderr
    assert 'import_error.py", line 10, in <module>' in result.stderr
    assert "import_error.py: KeyError raised while loading the file" in result.stderr
    assert "loader.py" not in result.stderr and "importlib" not in result.stderr


def test_prefect_dask_integration_runs_on_flowcs_dask_runner(flowc: Any) -> None:
    result = flowc("run", "dask_integration.py")
    assert result.code == 0, result.stderr
    assert "result: 1" in result.stdout


def test_unresolved_futures_warning_is_one_yellow_line(flowc: Any) -> None:
    result = flowc("run", "unresolved.py")
    assert result.code == 0
    warning_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warning_lines) == 1
    assert warning_lines[0].startswith("warning: Flow run 'leaky-")
    assert "unresolved.py:13 (forgotten)" in warning_lines[0]
    assert "UnresolvedFuturesWarning" not in result.stderr


def test_run_logger_records_are_shown(flowc: Any, tmp_path: Path) -> None:
    path = tmp_path / "logs.py"
    path.write_text(
        "from prefect import flow, get_run_logger, task\n\n"
        "@task\n"
        "def work():\n"
        "    get_run_logger().info('working hard')\n\n"
        "@flow\n"
        "def logs():\n"
        "    work()\n"
    )
    result = flowc("run", path)
    assert result.code == 0, result.stderr
    assert "INFO" in result.stderr and "working hard" in result.stderr
    assert "working hard" not in flowc("run", path, "-q").stderr


# --------------------------------------------------------------------------- usage errors (exit 2)


def assert_usage_error(result: object, message: str) -> None:
    assert result.code == 2, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    assert result.stderr.strip() == message  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr  # type: ignore[attr-defined]


def test_missing_file(flowc: Any) -> None:
    assert_usage_error(flowc("run", "nothere.py"), "nothere.py: No such file or directory")


def test_directory(flowc: Any) -> None:
    assert_usage_error(flowc("run", "."), ".: Is a directory; give a Python file (FILE.py[:FLOW])")


def test_syntax_error_with_location(flowc: Any, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("from flowc import flow\n\n@flow\ndef f(:\n    pass\n")
    result = flowc("run", "broken.py", cwd=tmp_path)
    assert_usage_error(result, "broken.py:4:7: syntax error: invalid syntax")


def test_indentation_error(flowc: Any, tmp_path: Path) -> None:
    (tmp_path / "indent.py").write_text("x = 1\n    y = 2\n")
    result = flowc("run", "indent.py", cwd=tmp_path)
    assert result.code == 2
    # the column is Python's own (it differs between versions for indentation errors)
    assert re.fullmatch(r"indent\.py:2:\d+: syntax error: unexpected indent\n", result.stderr)


def test_undecodable_file(flowc: Any, tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(b"x = 1\ny = '\xff'\n")
    result = flowc("run", "latin.py", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("latin.py:2: cannot decode byte 0xff as utf-8")
    assert "coding" in result.stderr


def test_declared_encoding_is_honoured(flowc: Any, tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nfrom flowc import flow\n\n@flow\ndef f():\n    return '\xe9'\n"
    )
    result = flowc("run", "latin.py", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "result: 'é'" in result.stdout


def test_no_flow(flowc: Any) -> None:
    assert_usage_error(
        flowc("run", "no_flow.py"),
        "no_flow.py: no flow found (a flow is a function decorated with @flow)",
    )


def test_several_flows_need_a_pick(flowc: Any) -> None:
    assert_usage_error(
        flowc("run", "two_flows.py"),
        "two_flows.py: 2 flows found, pick one with FILE:FLOW "
        "(its flows: hello-flow (hello_world), my-flow)",
    )


def test_a_parent_flow_is_picked_over_its_subflows(flowc: Any) -> None:
    result = flowc("run", "parent_and_subflows.py")
    assert result.code == 0, result.stderr
    assert "flow run 'pipeline-" in result.stdout and "result: 6" in result.stdout


def test_the_chosen_flow_of_several_runs_from_its_plan(flowc: Any) -> None:
    result = flowc("run", "main_block.py", "--plan", "on", "-q")
    assert result.code == 0, result.stderr
    assert flowc("run", "parent_and_subflows.py", "--plan", "on", "-q").code == 0


def test_the_flow_the_main_block_calls_runs_with_its_arguments(flowc: Any) -> None:
    result = flowc("run", "main_block.py")
    assert result.code == 0, result.stderr
    assert "main_block.py:26: running flow 'report' as the __main__ block calls it with " in (
        result.stderr
    )
    assert "report: abab" in result.stdout and "argv:" not in result.stdout
    overridden = flowc("run", "main_block.py", "--param", "copies=1", "-q")
    assert overridden.code == 0 and "report: ab\n" in overridden.stdout


def test_a_generator_flow_runs_to_its_end(flowc: Any) -> None:
    result = flowc("run", "generator_flow.py")
    assert result.code == 0, result.stderr
    assert "tick 1" in result.stdout and "result: 'liftoff'" in result.stdout
    failed = flowc("run", "generator_flow.py", "-p", "n=6", "-q")
    assert failed.code == 1 and "ValueError: too long" in failed.stderr


def test_main_runs_the_file_as_a_script(flowc: Any, report_path: Path, read_report: Any) -> None:
    result = flowc("run", "--main", "script_runs.py", "2", "3", "--report", report_path)
    assert result.code == 0, result.stderr
    assert "total(2) = 1" in result.stdout and "total(3) = 5" in result.stdout
    assert result.stdout.count("flow run 'total-") == 2
    report = read_report(report_path)
    assert [run["flow_runs"][0]["state"]["name"] for run in report["top_level_runs"]] == [
        "Completed",
        "Completed",
    ]
    assert report["script"]["argv"] == ["script_runs.py", "2", "3"]


def test_main_runs_the_scripts_tasks_on_worker_processes(flowc: Any) -> None:
    result = flowc("run", "--main", "script_runs.py", "3", "--runner", "processes", "-q")
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "total(3) = 5"


def test_main_exits_as_the_script_does(flowc: Any) -> None:
    result = flowc("run", "--main", "script_runs.py", "1", "fail", "-q")
    assert result.code == 1
    assert result.stderr.strip() == "asked to fail"
    assert "total(1) = 0" in result.stdout
    options = flowc("run", "--main", "main_block.py", "--", "--param", "x")
    assert options.code == 0 and "argv: ['--param', 'x']" in options.stdout


def test_main_refuses_what_does_not_apply(flowc: Any) -> None:
    assert_usage_error(
        flowc("run", "--main", "main_block.py", "--param", "copies=2"),
        "--param does not apply with --main: the script decides what it runs",
    )
    assert_usage_error(
        flowc("run", "main_block.py", "extra"),
        "unexpected argument 'extra' (ARGS are given with --main)",
    )


def test_unknown_flow_lists_the_available_ones(flowc: Any) -> None:
    assert_usage_error(
        flowc("run", "two_flows.py:nope"),
        "two_flows.py: no flow named 'nope' (its flows: hello-flow (hello_world), my-flow)",
    )


def test_flow_picked_by_flow_name_or_function_name(flowc: Any) -> None:
    by_name = flowc("run", "two_flows.py:hello-flow")
    by_function = flowc("run", "two_flows.py:hello_world")
    by_default_name = flowc("run", "two_flows.py:my-flow")
    for result in (by_name, by_function, by_default_name):
        assert result.code == 0, result.stderr
    assert "result: 'hello'" in by_name.stdout and "result: 'hello'" in by_function.stdout
    assert "result: 4" in by_default_name.stdout


def test_unknown_runner(flowc: Any) -> None:
    assert_usage_error(
        flowc("run", "module_call.py", "--runner", "gpu"),
        "unknown runner 'gpu': choose one of threads, processes, dask, ray",
    )


def test_address_needs_a_distributed_runner_and_excludes_workers(flowc: Any) -> None:
    assert_usage_error(
        flowc("run", "module_call.py", "--address", "tcp://127.0.0.1:8786"),
        "--address needs --runner dask or --runner ray",
    )
    assert_usage_error(
        flowc(
            "run",
            "module_call.py",
            "--runner",
            "dask",
            "--workers",
            "2",
            "--address",
            "tcp://127.0.0.1:8786",
        ),
        "--runner dask: --workers sizes a cluster flowc starts; drop it with --address",
    )


def test_bad_workers(flowc: Any) -> None:
    for value in ("0", "-1", "many"):
        assert_usage_error(
            flowc("run", "module_call.py", "--runner", "threads", "--workers", value),
            f"--workers must be a positive integer, got '{value}'",
        )


def test_workers_without_runner(flowc: Any) -> None:
    result = flowc("run", "module_call.py", "--workers", "2")
    assert result.code == 2
    assert result.stderr.startswith("--workers needs --runner")


def test_report_directory_must_exist(flowc: Any, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "r.json"
    result = flowc("run", "module_call.py", "--report", target)
    assert result.code == 2
    assert "does not exist" in result.stderr
    assert "RAN" not in result.stdout


# --------------------------------------------------------------------------- parameters


def test_param_json_and_coercion(flowc: Any) -> None:
    result = flowc(
        "run", "typed.py", "-p", "n=3", "-p", "name=123", "-p", "ratio=2", "-p", "items=[1, 2]"
    )
    assert result.code == 0, result.stderr
    assert "'text': '123123123'" in result.stdout  # name: str keeps 123 as text
    assert "'ratio': 2.0" in result.stdout  # coerced to float
    assert "'items': [1, 2]" in result.stdout
    assert "'types': ['int', 'str', 'float']" in result.stdout


def test_param_string_coerced_to_int(flowc: Any) -> None:
    result = flowc("run", "typed.py", "--param", 'n="4"', "--param", "name=x")
    assert result.code == 0, result.stderr
    assert "'text': 'xxxx'" in result.stdout


def test_param_bad_value_is_a_failed_flow_run_with_a_report(
    flowc: Any, report_path: Path, read_report: Any
) -> None:
    result = flowc("run", "typed.py", "-p", "n=abc", "--report", report_path)
    assert result.code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        "ParameterTypeError: Flow run received invalid parameters:\n - n: Input should be a "
        in (result.stderr)
    )
    report = read_report(report_path)
    assert report["state"]["name"] == "Failed" and report["task_runs"] == []
    assert report["state"]["message"].startswith("Validation of flow parameters failed with error")


def test_invalid_arguments_in_the_files_own_call_are_a_failed_flow_run(
    flowc: Any, tmp_path: Path, report_path: Path, read_report: Any
) -> None:
    (tmp_path / "bad_call.py").write_text(
        "from prefect import flow\n\n@flow\ndef greet(name: str = 'World'):\n"
        "    return name\n\ngreet(name=1)\n"
    )
    result = flowc("run", "bad_call.py", "--report", report_path, cwd=tmp_path)
    assert result.code == 1
    assert "greet(name=1)" in result.stderr  # the file's own line, as Python shows it
    assert read_report(report_path)["flow_runs"][0]["state"]["type"] == "FAILED"


def test_param_unknown_name(flowc: Any) -> None:
    assert_usage_error(
        flowc("run", "typed.py", "-p", "n=1", "-p", "colour=red"),
        "flow 'typed-flow' has no parameter 'colour' (its parameters: n, name, ratio, items)",
    )


def test_param_missing_required(flowc: Any) -> None:
    assert_usage_error(
        flowc("run", "typed.py"), "flow 'typed-flow' needs parameter 'n': pass --param n=VALUE"
    )


def test_param_malformed(flowc: Any) -> None:
    assert_usage_error(
        flowc("run", "typed.py", "-p", "n"), "--param 'n': expected NAME=VALUE, e.g. --param n=3"
    )


# --------------------------------------------------------------------------- runners


def test_processes_runner_runs_tasks_of_the_file_in_workers(flowc: Any) -> None:
    result = flowc("run", "processes.py", "--runner", "processes", "--workers", "2", "-p", "n=6")
    assert result.code == 0, result.stderr
    shown = result_value(result.stdout)
    assert shown["values"] == list(range(6))
    assert shown["parent"] not in shown["workers"]
    assert 1 <= len(shown["workers"]) <= 2


def test_processes_runner_with_sibling_module_importing_prefect(flowc: Any) -> None:
    result = flowc("run", "uses_sibling.py", "--runner", "processes", "--workers", "1")
    assert result.code == 0, result.stderr
    assert "result: 'HI!'" in result.stdout


def test_threads_runner(flowc: Any) -> None:
    result = flowc("run", "graph.py:graph_flow", "--runner", "threads", "--workers", "1", "-q")
    assert result.code == 0, result.stderr


# --------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_exits_130_with_one_line(
    read_report: Any, flows_dir: Path, report_path: Path
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "flowc", "run", "slow.py", "--report", str(report_path)],
        cwd=flows_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "STARTED"
        time.sleep(0.3)  # let the flow body reach the task
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted (Ctrl-C): flow run 'slow-flow-")
    assert read_report(report_path)["state"]["type"] == "CRASHED"


def test_prefect_imported_inside_a_task_body_on_worker_processes(flowc: Any) -> None:
    result = flowc("run", "prefect_inside_task.py")
    assert result.code == 0, result.stderr
    assert result_value(result.stdout) == "Completed"


def test_worker_traceback_shows_the_flow_files_lines(flowc: Any) -> None:
    result = flowc("run", "process_failure.py")
    assert result.code == 1
    assert "<dynamic-code>" not in result.stderr
    assert "process_failure.py" in result.stderr and "return 1 / x" in result.stderr


# --------------------------------------------------------------------------- deep recursion


def test_a_flow_recursing_past_the_limit_fails_clearly(
    flowc: Any, report_path: Path, read_report: Any
) -> None:
    result = flowc("run", "deep_recursion.py", "--plan", "off", "-q", "--report", report_path)
    assert result.code == 1
    assert "RecursionError: maximum recursion depth exceeded" in result.stderr
    report = read_report(report_path)
    assert report["state"]["type"] == "FAILED"
    assert all(run["state"]["type"] != "PENDING" for run in report["task_runs"])


def test_ctrl_c_stops_a_deeply_recursing_flow(flows_dir: Path) -> None:
    environment = {**os.environ, "FLOWC_TEST_BLOCK_AT": "60"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flowc", "run", "deep_recursion.py", "--plan", "off", "-q"],
        cwd=flows_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "waiting for Ctrl-C"  # 90 flows deep
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130
    assert stderr.strip().startswith("interrupted (Ctrl-C): flow run 'rec-")
