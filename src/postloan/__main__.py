from postloan.cli.main import main

main()
