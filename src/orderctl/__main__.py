from orderctl.cli.quick_complete import run

run()
