from stepseven.cli import main

main()
