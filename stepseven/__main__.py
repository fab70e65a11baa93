from stepseven.main import main

if __name__ == "__main__":
    main()
