# The commands the documents show, against their classification
# (tests/cli/doc_commands.txt); see test_doc_commands.sh. Reads the table
# first (TABLE=1), then the documents, and prints the plan, one line a step,
# fields separated by tabs:
#   DOC  LINE  ACTION  TEXT
# ACTION: cmd (TEXT: the command to run, substitutions and additions made),
# first (a command to run before it), needs (a path the command needs),
# run | sample | usage | skip (the verdict; skip's TEXT is the reason),
# error (TEXT says what is wrong with the table or the document).
# A sample's output lines go to SAMPLES/DOC-LINE (DOC's / as -).
#
# A command is a line of a ```sh block that quotes no file (```sh PATH is a
# quote, checked by check_docs.sh), a line indented under it joining it, or a
# line "$ COMMAND" of a ```text block, whose output is the lines under it up
# to the next "$ " or the end of the block. A trailing "# comment" is dropped.
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function uncomment(s) { sub(/[ \t]+#( .*)?$/, "", s); return trim(s) }
# replace every OLD in s by NEW, literally
function replace(s, old, new,   out, i) {
    out = ""
    while ((i = index(s, old)) > 0) { out = out substr(s, 1, i - 1) new; s = substr(s, i + length(old)) }
    return out s
}
function emit(doc, line, action, text) { print doc "\t" line "\t" action "\t" text }

TABLE && /^[ \t]*(#|$)/ { next }
TABLE && /^[^ \t]/ {
    key = $0
    if (key in directives) emit(TABLENAME, FNR, "error", "'" key "' is classified twice")
    directives[key] = ""; at[key] = FNR; next
}
TABLE {
    d = uncomment($0)
    if (d !~ /^(first|needs|with|add|run|sample|usage|skip)( |$)/)
        emit(TABLENAME, FNR, "error", "'" d "': not a directive (first, needs, with, add, run, sample, usage, skip)")
    directives[key] = directives[key] d "\n"; next
}

FNR == 1 { flush(); doc = FILENAME; fence = 0 }
/^[ \t]*```/ {
    flush()
    if (!fence) { fence = 1; info = trim(substr(trim($0), 4)); next }
    fence = 0; next
}
fence && (info == "sh" || info == "bash" || info == "shell") {
    # a line indented under a command, or after one ending in a backslash, continues it
    if (pending != "" && ($0 ~ /^[ \t]/ || pending ~ /\\$/)) {
        sub(/[ \t]*\\$/, "", pending); pending = pending " " uncomment($0); next
    }
    flush()
    if (trim($0) == "" || $0 ~ /^[ \t]*#/) next
    pending = uncomment($0); pending_line = FNR; next
}
fence && info == "text" && /^\$ / { flush(); pending = uncomment(substr($0, 3)); pending_line = FNR; sampling = 1; nout = 0; next }
fence && sampling { out[++nout] = $0; next }
END { flush(); for (k in directives) if (!(k in used)) emit(TABLENAME, at[k], "error", "'" k "' is not a command any document shows (any longer)") }

function flush(   key, n, lines, i, cmd, verdict, f, words, file) {
    if (pending == "") { sampling = 0; return }
    key = doc ": " pending
    if (!(key in directives)) {
        emit(doc, pending_line, "error", "'" pending "' is not classified: add it to " TABLENAME "")
        pending = ""; sampling = 0; return
    }
    used[key] = 1
    cmd = pending; verdict = ""
    n = split(directives[key], lines, "\n")
    for (i = 1; i <= n; i++) {
        if (lines[i] == "") continue
        f = lines[i]; sub(/ .*/, "", f); rest = substr(lines[i], length(f) + 2)
        if (f == "with") {
            if (split(rest, words, " => ") != 2 || !index(cmd, words[1]))
                emit(doc, pending_line, "error", "'with " rest "': not OLD => NEW with OLD in the command")
            cmd = replace(cmd, words[1], words[2])
        } else if (f == "add") cmd = cmd " " rest
        else if (f == "first" || f == "needs") emit(doc, pending_line, f, rest)
        else { if (verdict != "") emit(doc, pending_line, "error", "two verdicts"); verdict = f; reason = rest }
    }
    if (verdict == "") emit(doc, pending_line, "error", "no verdict (run, sample, usage or skip REASON)")
    else if (verdict == "skip" && reason == "") emit(doc, pending_line, "error", "skip without a reason")
    else if (verdict == "sample" && !sampling) emit(doc, pending_line, "error", "sample: the document shows no output under it")
    else {
        if (verdict == "sample") {
            file = doc "-" pending_line; gsub("/", "-", file); file = SAMPLES "/" file
            printf "" >file
            for (i = 1; i <= nout; i++) print out[i] >>file
            close(file)
        }
        emit(doc, pending_line, verdict, verdict == "skip" ? reason : "")
        if (verdict != "skip") emit(doc, pending_line, "cmd", cmd)
    }
    pending = ""; sampling = 0
}
