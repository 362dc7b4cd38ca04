package decode

// cleanInPlace cleans an absolute path the way path.Clean does (collapse
// slashes, drop ".", resolve ".." lexically, never above "/"), writing the
// result over the front of p and returning its length. The output is never
// longer than the input, so the in-place rewrite is safe and allocates
// nothing. A path that does not start with '/' is left as it is.
func cleanInPlace(p []byte) int {
	if len(p) == 0 || p[0] != '/' {
		return len(p)
	}
	w, r := 1, 1
	for r < len(p) {
		switch {
		case p[r] == '/':
			r++
		case p[r] == '.' && (r+1 == len(p) || p[r+1] == '/'):
			r++
		case p[r] == '.' && r+1 < len(p) && p[r+1] == '.' && (r+2 == len(p) || p[r+2] == '/'):
			r += 2
			if w > 1 {
				w--
				for w > 1 && p[w] != '/' {
					w--
				}
			}
		default:
			if w != 1 {
				p[w] = '/'
				w++
			}
			for r < len(p) && p[r] != '/' {
				p[w] = p[r]
				w++
				r++
			}
		}
	}
	return w
}
