package proc

import (
	"testing"
)

func TestParseStat(t *testing.T) {
	const tail = " 0 0 0 0 0 0 0 0 20 0 1 0 123456 1000 100 18446744073709551615\n"
	tests := []struct {
		name string
		line string
		want statInfo
		bad  bool
	}{{
		name: "plain",
		line: "4242 (sleep) S 100 4242 99 34816 4242 4194304" + tail,
		want: statInfo{PID: 4242, Comm: []byte("sleep"), State: 'S', PPID: 100, PGID: 4242, SID: 99, TTY: 34816, StartTicks: 123456},
	}, {
		name: "comm with parens and spaces",
		line: "7 (a) (b c) d) R 1 7 7 0 -1 0" + tail,
		want: statInfo{PID: 7, Comm: []byte("a) (b c) d"), State: 'R', PPID: 1, PGID: 7, SID: 7, StartTicks: 123456},
	}, {
		name: "comm that mimics fields",
		line: "8 (x) S 1 2 3 4 () Z 5 8 8 0 -1 0" + tail,
		want: statInfo{PID: 8, Comm: []byte("x) S 1 2 3 4 ("), State: 'Z', PPID: 5, PGID: 8, SID: 8, StartTicks: 123456},
	}, {
		name: "comm with newline",
		line: "9 (a\nb) S 1 1 1 0 -1 0" + tail,
		want: statInfo{PID: 9, Comm: []byte("a\nb"), State: 'S', PPID: 1, PGID: 1, SID: 1, StartTicks: 123456},
	}, {
		name: "empty comm",
		line: "10 () S 2 0 0 0 -1 0" + tail,
		want: statInfo{PID: 10, Comm: []byte(""), State: 'S', PPID: 2, StartTicks: 123456},
	}, {
		name: "negative tty keeps its bits",
		line: "11 (t) S 1 1 1 -2147483648 -1 0" + tail,
		want: statInfo{PID: 11, Comm: []byte("t"), State: 'S', PPID: 1, PGID: 1, SID: 1, TTY: 0x80000000, StartTicks: 123456},
	}, {
		name: "short but usable",
		line: "12 (k) I 2 0 0 0",
		want: statInfo{PID: 12, Comm: []byte("k"), State: 'I', PPID: 2},
	},
		{name: "empty", line: "", bad: true},
		{name: "no parens", line: "1 init S 0 1 1 0", bad: true},
		{name: "reversed parens", line: "1 )init( S 0 1 1 0", bad: true},
		{name: "bad pid", line: "x1 (init) S 0 1 1 0", bad: true},
		{name: "too few fields", line: "1 (init) S 0 1", bad: true},
		{name: "ppid not a number", line: "1 (init) S zero 1 1 0", bad: true},
		{name: "ppid too big", line: "1 (init) S 4294967296 1 1 0", bad: true},
		{name: "bad start", line: "1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.line))
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted %q: %+v", tc.line, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseStat(%q): %v", tc.line, err)
			}
			if string(got.Comm) != string(tc.want.Comm) {
				t.Fatalf("comm %q want %q", got.Comm, tc.want.Comm)
			}
			if statNumbers(got) != statNumbers(tc.want) {
				t.Fatalf("got %+v want %+v", got, tc.want)
			}
		})
	}
}

// statNumbers returns every field but Comm, in a comparable form.
func statNumbers(s statInfo) [7]uint64 {
	return [7]uint64{uint64(s.PID), uint64(s.State), uint64(s.PPID), uint64(s.PGID),
		uint64(s.SID), uint64(s.TTY), s.StartTicks}
}

func TestParseStatus(t *testing.T) {
	const status = "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t5\nPid:\t5\nPPid:\t1\n" +
		"Uid:\t1000\t1001\t1002\t1003\nGid:\t2000\t2001\t2002\t2003\nGroups:\t4 24\n" +
		"CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t00000000a80425fb\nCapBnd:\t000001ffffffffff\n"
	s, ok := parseStatus([]byte(status))
	want := statusInfo{UID: 1000, EUID: 1001, GID: 2000, EGID: 2001, CapPermitted: 0x1ffffffffff, CapEffective: 0xa80425fb}
	if !ok || s != want {
		t.Fatalf("got %+v ok=%v want %+v", s, ok, want)
	}
	if _, ok := parseStatus([]byte("Name:\tx\nUid:\t1\t1\t1\t1\n")); ok {
		t.Fatal("status without Gid accepted")
	}
	if _, ok := parseStatus([]byte("Uid:\t1\nGid:\tx\t1\n")); ok {
		t.Fatal("malformed ids accepted")
	}
}

func TestNumberParsers(t *testing.T) {
	if v, ok := parseUint([]byte("18446744073709551615")); !ok || v != 1<<64-1 {
		t.Fatalf("max uint64: %d %v", v, ok)
	}
	for _, s := range []string{"", "18446744073709551616", "1a", "-1", "+1", " 1"} {
		if _, ok := parseUint([]byte(s)); ok {
			t.Errorf("parseUint accepted %q", s)
		}
	}
	if v, ok := parseInt([]byte("-9223372036854775808")); !ok || v != -1<<63 {
		t.Fatalf("min int64: %d %v", v, ok)
	}
	for _, s := range []string{"-", "9223372036854775808", "-9223372036854775809", "--1"} {
		if _, ok := parseInt([]byte(s)); ok {
			t.Errorf("parseInt accepted %q", s)
		}
	}
	if v, ok := parseHex([]byte("ffffFFFFffffFFFF")); !ok || v != 1<<64-1 {
		t.Fatalf("hex: %x %v", v, ok)
	}
	for _, s := range []string{"", "0x1", "g", "11111111111111111"} {
		if _, ok := parseHex([]byte(s)); ok {
			t.Errorf("parseHex accepted %q", s)
		}
	}
}

func TestNSInode(t *testing.T) {
	for link, want := range map[string]uint32{
		"mnt:[4026531841]":  4026531841,
		"mnt:[]":            0,
		"mnt:[x]":           0,
		"mnt:4026531841":    0,
		"":                  0,
		"mnt:[99999999999]": 0,
	} {
		if got := nsInode(link); got != want {
			t.Errorf("nsInode(%q) = %d want %d", link, got, want)
		}
	}
}
