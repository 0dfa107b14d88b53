from sendout.cli import main

main()
