"""Entry for the benchmark runner: the waveform checker benchmark lives in hil.waveform.bench."""

from hil.waveform.bench import main

if __name__ == "__main__":
    main()
