package outputs

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func wantSyslog(i int) string {
	return fmt.Sprintf(`<132>1 2024-05-01T10:00:00.123456Z node-1 vigil %d alert `+
		`[vigil@32473 rule="Test rule" priority="Warning" source="syscall"] Test rule: alert %d`, os.Getpid(), i)
}

func TestRFC5424Escaping(t *testing.T) {
	a := testAlert(0)
	a.Rule, a.Priority, a.Hostname, a.Output = `a "b" [c] \d`, "Critical", "", "line1\nline2\n"
	got := string(AppendRFC5424(nil, a, 3, "my app", 42))
	want := `<26>1 2024-05-01T10:00:00.123456Z - myapp 42 alert [vigil@32473 rule="a \"b\" [c\] \\d" ` +
		`priority="Critical" source="syscall"] a "b" [c] \d: line1 line2`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestSyslogUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	testSyslogDatagrams(t, "udp", pc.LocalAddr().String(), pc)
}

func TestSyslogUnixgram(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.sock")
	pc, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	testSyslogDatagrams(t, "unixgram", path, pc)
}

func testSyslogDatagrams(t *testing.T, network, addr string, pc net.PacketConn) {
	s, err := NewSyslogSink(SyslogConfig{Network: network, Address: addr, Facility: 16})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue("syslog", s, QueueConfig{})
	for i := range 3 {
		q.Enqueue(testAlert(i))
	}
	buf := make([]byte, 4096)
	for i := range 3 {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:n]); got != wantSyslog(i) {
			t.Errorf("got  %s\nwant %s", got, wantSyslog(i))
		}
	}
	closeQueue(t, q)
}

// TestSyslogTCP checks octet-counting framing and that a listener that
// comes back after the connection broke gets the next alerts.
func TestSyslogTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := NewSyslogSink(SyslogConfig{Network: "tcp", Address: ln.Addr().String(), Facility: 16})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue("syslog", s, fastRetry)
	for i := range 3 {
		q.Enqueue(testAlert(i))
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	for i := range 3 {
		lenStr, err := r.ReadString(' ')
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(lenStr))
		msg := make([]byte, n)
		if _, err := io.ReadFull(r, msg); err != nil {
			t.Fatal(err)
		}
		if string(msg) != wantSyslog(i) {
			t.Errorf("got  %s\nwant %s", msg, wantSyslog(i))
		}
	}
	_ = c.Close() // the messages are read: the check is done
	closeQueue(t, q)
	if st := q.Stats(); st.Sent != 3 {
		t.Errorf("stats %+v", st)
	}
	if _, err := NewSyslogSink(SyslogConfig{Network: "sctp", Address: "x"}); err == nil {
		t.Error("bad network accepted")
	}
}
