package fields

import (
	"github.com/vigilsec/vigil/internal/proc"
)

func (c *Context) userName(uid uint32) (string, bool) {
	if c.Env.Users == nil {
		return "", false
	}
	return c.Env.Users.User(uid)
}

// registerIdentity adds user.* and group.*. Like Falco, the user is the
// effective one: what the process may do is decided by it.
func registerIdentity(r *Registry) {
	r.add("user.uid", "the effective user id",
		imgNum(func(im *proc.Image) uint64 { return uint64(im.EUID) }))
	r.add("user.name", "the effective user's name, from /etc/passwd",
		str(func(c *Context) (string, bool) {
			im, ok := c.image()
			if !ok {
				return "", false
			}
			return c.userName(im.EUID)
		}))
	r.add("user.loginuid", "the audit login uid, -1 when the process never logged in",
		integer(func(c *Context) (int64, bool) {
			im, ok := c.image()
			if im.LoginUID == proc.NoLoginUID {
				return -1, ok
			}
			return int64(im.LoginUID), ok
		}))
	r.add("user.loginname", "the name of the login user",
		str(func(c *Context) (string, bool) {
			im, ok := c.image()
			if !ok || im.LoginUID == proc.NoLoginUID {
				return "", false
			}
			return c.userName(im.LoginUID)
		}))
	r.add("group.gid", "the effective group id",
		imgNum(func(im *proc.Image) uint64 { return uint64(im.EGID) }))
	r.add("group.name", "the effective group's name, from /etc/group",
		str(func(c *Context) (string, bool) {
			im, ok := c.image()
			if !ok || c.Env.Users == nil {
				return "", false
			}
			return c.Env.Users.Group(im.EGID)
		}))
}
