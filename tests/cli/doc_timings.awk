# Timings in the documents say on what machine they were measured: prints
# DOC:LINE for each section (a ## heading to the next, its ### parts
# included) that states a measured time or rate (a number with s, ms, µs,
# min, minutes, seconds, hours, 4m13s, tokens/s, tok/s, words/s) but names
# no CPU (EPYC, Xeon, Core i7, Ryzen, Haswell, ...). An interval or a setting
# ("every 10 seconds", "up to 50 µs", "train.max_seconds") is no measurement.
function check() {
    if (claim != "" && !machine)
        print claimfile ":" claimline ": '" claim "' is a timing, but its section ('" claimhead "') names no CPU it was measured on"
    claim = ""; machine = 0
}
FNR == 1 { if (NR > 1) check(); head = "(top)"; fence = 0 }
/^[ \t]*```/ { fence = !fence }
!fence && /^##? / { check(); head = $0 }
{
    if ($0 ~ /EPYC|Xeon|Core i[3579]|Ryzen|Haswell|Skylake|Apple M[0-9]|Graviton|Neoverse/) machine = 1
    line = $0
    gsub(/(every|up to|at most|after|within) [0-9][0-9.,]* ?[a-zµ]+/, "", line) # intervals and settings
    if (!fence && claim == "" &&
        match(line, /[0-9][0-9.,]* ?(s|ms|µs|min|minutes|seconds|hours?)([ ,.;:)|*]|$)|[0-9]m[0-9]+s|[0-9][0-9.,]* ?[kM]? ?(tokens|tok|words)\/s/)) {
        claim = substr(line, RSTART, RLENGTH); sub(/[ ,.;:)|*]$/, "", claim); claimline = FNR; claimfile = FILENAME; claimhead = head
    }
}
END { check() }
