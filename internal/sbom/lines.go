package sbom

import "bytes"

// EachLine calls fn with each line of b, without its newline or a
// carriage return before it; a final line without a newline counts. Unlike
// a bufio.Scanner it has no line length limit, so one overlong line in a
// file list cannot hide the lines after it: b is already bounded by
// whoever read the file.
func EachLine(b []byte, fn func(line []byte)) {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		fn(bytes.TrimSuffix(line, []byte{'\r'}))
	}
}
