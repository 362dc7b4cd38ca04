package syscalls

// Generic is the handler for syscalls described by a Spec: the kernel sends
// the raw arguments plus the decoded slots the Spec asks for.
const Generic Handler = 11

// SlotType says how the kernel decodes one argument of a generic syscall.
// The values match SLOT_* in bpf/vigil.h.
type SlotType uint8

// Slot types.
const (
	SlotNone     SlotType = 0
	SlotPath     SlotType = 1 // user path, relative to the cwd
	SlotPathAt   SlotType = 2 // user path, relative to the dirfd in the previous argument
	SlotStr      SlotType = 3 // user string
	SlotSockaddr SlotType = 4 // user sockaddr, length in the next argument
	SlotFD       SlotType = 5 // fd: the path of the file it refers to
	SlotBuf      SlotType = 6 // user buffer, copied only when payload capture is on
	SlotFDPair   SlotType = 7 // user int[2] filled by the kernel
)

// Arg names one syscall argument as Falco's field conventions do
// (evt.arg.<Name>) and says how the kernel decodes it.
type Arg struct {
	Name string
	Slot SlotType
}

// Spec describes a syscall captured through the generic handler.
type Spec struct {
	Name string
	Args []Arg
}

// MaxSlots is how many decoded slots one generic event can carry.
const MaxSlots = 3

// a builds an Arg list tersely: a plain name is a raw argument, and a
// name followed by a SlotType is decoded.
func a(items ...any) []Arg {
	var args []Arg
	for _, it := range items {
		switch v := it.(type) {
		case string:
			args = append(args, Arg{Name: v})
		case SlotType:
			args[len(args)-1].Slot = v
		}
	}
	return args
}

// specs lists the generic syscalls by name. Argument names follow Falco's
// event table where it has one, so existing rules keep working.
var specs = map[string]Spec{
	// files
	"rename":    {Args: a("oldpath", SlotPath, "newpath", SlotPath)},
	"renameat":  {Args: a("olddirfd", "oldpath", SlotPathAt, "newdirfd", "newpath", SlotPathAt)},
	"renameat2": {Args: a("olddirfd", "oldpath", SlotPathAt, "newdirfd", "newpath", SlotPathAt, "flags")},
	"unlink":    {Args: a("path", SlotPath)},
	"unlinkat":  {Args: a("dirfd", "name", SlotPathAt, "flags")},
	"mkdir":     {Args: a("path", SlotPath, "mode")},
	"mkdirat":   {Args: a("dirfd", "path", SlotPathAt, "mode")},
	"rmdir":     {Args: a("path", SlotPath)},
	"symlink":   {Args: a("target", SlotStr, "linkpath", SlotPath)},
	"symlinkat": {Args: a("target", SlotStr, "linkdirfd", "linkpath", SlotPathAt)},
	"link":      {Args: a("oldpath", SlotPath, "newpath", SlotPath)},
	"linkat":    {Args: a("olddir", "oldpath", SlotPathAt, "newdir", "newpath", SlotPathAt, "flags")},
	"chmod":     {Args: a("filename", SlotPath, "mode")},
	"fchmod":    {Args: a("fd", SlotFD, "mode")},
	"fchmodat":  {Args: a("dirfd", "filename", SlotPathAt, "mode")},
	"chown":     {Args: a("path", SlotPath, "uid", "gid")},
	"lchown":    {Args: a("path", SlotPath, "uid", "gid")},
	"fchown":    {Args: a("fd", SlotFD, "uid", "gid")},
	"fchownat":  {Args: a("dirfd", "pathname", SlotPathAt, "uid", "gid", "flags")},
	"truncate":  {Args: a("path", SlotPath, "length")},
	"ftruncate": {Args: a("fd", SlotFD, "length")},
	"mknod":     {Args: a("path", SlotPath, "mode", "dev")},
	"mknodat":   {Args: a("dirfd", "path", SlotPathAt, "mode", "dev")},
	// open_by_handle_at opens a file by its handle, bypassing path
	// permissions (the "shocker" container escape); the result is the fd.
	"open_by_handle_at": {Args: a("mountfd", "handle", "flags")},
	// processes and credentials
	"clone":        {Args: a("flags", "newsp", "parent_tid", "child_tid", "tls")},
	"clone3":       {Args: a("cl_args", "size")},
	"fork":         {},
	"vfork":        {},
	"setuid":       {Args: a("uid")},
	"setgid":       {Args: a("gid")},
	"setreuid":     {Args: a("ruid", "euid")},
	"setregid":     {Args: a("rgid", "egid")},
	"setresuid":    {Args: a("ruid", "euid", "suid")},
	"setresgid":    {Args: a("rgid", "egid", "sgid")},
	"capset":       {Args: a("hdrp", "datap")},
	"prctl":        {Args: a("option", "arg2", "arg3", "arg4", "arg5")},
	"ptrace":       {Args: a("request", "pid", "addr", "data")},
	"kill":         {Args: a("pid", "sig")},
	"tgkill":       {Args: a("tgid", "tid", "sig")},
	"memfd_create": {Args: a("name", SlotStr, "flags")},
	"userfaultfd":  {Args: a("flags")},
	"unshare":      {Args: a("flags")},
	"setns":        {Args: a("fd", SlotFD, "nstype")},
	"mount":        {Args: a("dev", SlotStr, "dir", SlotPath, "type", SlotStr, "flags", "data")},
	"umount2":      {Args: a("name", SlotPath, "flags")},
	"chroot":       {Args: a("path", SlotPath)},
	"reboot":       {Args: a("magic", "magic2", "cmd", "arg")},
	"pivot_root":   {Args: a("new_root", SlotPath, "put_old", SlotPath)},
	"socket":       {Args: a("domain", "type", "proto")},
	"socketpair":   {Args: a("domain", "type", "proto", "fds", SlotFDPair)},
	"sendto":       {Args: a("fd", "data", SlotBuf, "size", "flags", "tuple", SlotSockaddr, "addrlen")},
	"recvfrom":     {Args: a("fd", "data", SlotBuf, "size", "flags", "src_addr", "addrlen")},
	"sendmsg":      {Args: a("fd", "msg", "flags")},
	"recvmsg":      {Args: a("fd", "msg", "flags")},
	"shutdown":     {Args: a("fd", "how")},
	"dup":          {Args: a("fd")},
	"dup2":         {Args: a("oldfd", "newfd")},
	"dup3":         {Args: a("oldfd", "newfd", "flags")},
	"fcntl":        {Args: a("fd", "cmd", "arg")},
	"close":        {Args: a("fd")},
	"pipe":         {Args: a("fds", SlotFDPair)},
	"pipe2":        {Args: a("fds", SlotFDPair, "flags")},
	"close_range":  {Args: a("fd", "max_fd", "flags")},
	// descriptors on anonymous inodes: the fd table needs to see them made
	"eventfd":         {Args: a("initval")},
	"eventfd2":        {Args: a("initval", "flags")},
	"signalfd":        {Args: a("fd", "mask", "sizemask")},
	"signalfd4":       {Args: a("fd", "mask", "sizemask", "flags")},
	"timerfd_create":  {Args: a("clockid", "flags")},
	"inotify_init":    {},
	"inotify_init1":   {Args: a("flags")},
	"epoll_create":    {Args: a("size")},
	"epoll_create1":   {Args: a("flags")},
	"pidfd_open":      {Args: a("pid", "flags")},
	"io_uring_setup":  {Args: a("entries", "params")},
	"init_module":     {Args: a("img", "length", "uargs", SlotStr)},
	"finit_module":    {Args: a("fd", SlotFD, "uargs", SlotStr, "flags")},
	"delete_module":   {Args: a("name", SlotStr, "flags")},
	"bpf":             {Args: a("cmd", "attr", "size")},
	"perf_event_open": {Args: a("attr", "pid", "cpu", "group_fd", "flags")},
	"read":            {Args: a("fd", "data", SlotBuf, "size")},
	"write":           {Args: a("fd", "data", SlotBuf, "size")},
}

func init() {
	for name, s := range specs {
		s.Name = name
		specs[name] = s
		handlers[name] = Generic
	}
}

// SpecFor returns the Spec of a generic syscall.
func SpecFor(name string) (Spec, bool) {
	s, ok := specs[name]
	return s, ok
}

// FilterValue is what the kernel's syscall filter map holds for a
// syscall: its handler and, for generic syscalls, the decoded slots.
func FilterValue(name string) uint32 {
	h := HandlerFor(name)
	if h != Generic {
		return uint32(h)
	}
	v := uint32(h)
	shift := 8
	for i, arg := range specs[name].Args {
		if arg.Slot == SlotNone || shift > 8+6*(MaxSlots-1) {
			continue
		}
		v |= (uint32(i) | uint32(arg.Slot)<<3) << shift
		shift += 6
	}
	return v
}

// offByDefault lists syscalls that cost too much to capture unless a rule
// or the user asks for them by name.
var offByDefault = map[string]bool{"read": true, "write": true}

// Default returns the syscalls captured when nobody narrows the choice:
// every supported one except the high-volume I/O calls.
func Default() []string {
	var out []string
	for _, name := range Supported() {
		if !offByDefault[name] {
			out = append(out, name)
		}
	}
	return out
}
