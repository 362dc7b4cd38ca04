package fields

import (
	"strings"

	"github.com/vigilsec/vigil/internal/event"
	"github.com/vigilsec/vigil/internal/proc"
	"github.com/vigilsec/vigil/internal/rules/lang"
)

// The sensor copies the dynamic loader's variables of a secure exec and no
// other part of an environment, so these fields are named for what they
// hold: Falco's proc.env (the whole environment of every process) stays an
// unknown field, and rules written for it are skipped with a warning rather
// than silently never matching.
func registerLoaderEnv(r *Registry) {
	r.add("proc.is_secure_exec", "true when the kernel started the program in secure mode (AT_SECURE): a set-user-ID, set-group-ID or file-capability program gained privileges",
		imgBool(func(im *proc.Image) bool { return im.Flags&event.ExecSecure != 0 }))
	r.add("proc.is_loader_env_truncated", "true when a secure exec's environment had more entries or loader variables than the sensor copies (8192 entries, 4 KiB of variables): padding can hide a variable beyond them",
		imgBool(func(im *proc.Image) bool { return im.Flags&event.ExecEnvTruncated != 0 }))
	r.addOptArg("proc.loader_env", "the LD_* and GLIBC_TUNABLES variables a secure exec was given, as NAME=value separated by spaces (empty for other execs); with [NAME], that variable's value",
		str(func(c *Context) (string, bool) {
			_, ok := c.image()
			return c.memo(slotLoaderEnv, func(c *Context, dst []byte) []byte { return appendSpaced(dst, c.Proc.LoaderEnv) }), ok
		}),
		func(arg *lang.Arg) (Field, error) {
			name := arg.Text
			return str(func(c *Context) (string, bool) {
				im, ok := c.image()
				if !ok {
					return "", false
				}
				return lookupEnv(im.LoaderEnv, name)
			}), nil
		})
}

// lookupEnv finds NAME=value among NUL-separated entries. When a variable
// appears more than once the last one wins, as in the loader's own parsing;
// proc.loader_env without an argument shows every copy.
func lookupEnv(env, name string) (value string, found bool) {
	for env != "" {
		entry, rest, _ := strings.Cut(env, "\x00")
		if k, v, ok := strings.Cut(entry, "="); ok && k == name {
			value, found = v, true
		}
		env = rest
	}
	return value, found
}
