"""``chainrule playground`` run as a user runs it: the URL first, clean stops, clear errors."""

import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest


def run_cli(*argv, timeout=120):
    return subprocess.run([sys.executable, "-m", "chainrule", *map(str, argv)],
                          capture_output=True, text=True, timeout=timeout)


def _start(*extra):
    process = subprocess.Popen([sys.executable, "-m", "chainrule", "playground", "--port", "0",
                                "--no-browser", *extra], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    url = process.stdout.readline().strip()
    return process, url


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_first_line_is_the_url_and_a_signal_stops_it_cleanly(stop):
    process, url = _start()
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200 and b"data-testid=\"play\"" in response.read()
        process.send_signal(stop)
        assert process.wait(timeout=15) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()


def test_a_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = run_cli("playground", "--port", taken.getsockname()[1], "--no-browser")
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "in use" in lines[0] and "--port" in lines[0]


@pytest.mark.parametrize("port", ["-1", "70000", "http"])
def test_bad_port(port):
    done = run_cli("playground", "--port", port, "--no-browser")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "port" in done.stderr


def test_help_names_tensorflow_playground():
    done = run_cli("playground", "--help")
    assert done.returncode == 0 and "TensorFlow Playground" in done.stdout
    assert "--no-browser" in done.stdout and os.linesep in done.stdout
