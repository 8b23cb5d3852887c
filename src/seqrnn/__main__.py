from seqrnn.cli import console_main

console_main()
