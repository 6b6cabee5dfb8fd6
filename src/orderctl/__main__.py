from orderctl.cli.main import run

run()
