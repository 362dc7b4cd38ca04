package outputs

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/alert"
)

// SyslogConfig configures a SyslogSink.
type SyslogConfig struct {
	// Network is unixgram, unix, udp or tcp; Address is a socket path or
	// host:port.
	Network, Address string
	// Facility is the syslog facility number (0-23); LOG_LOCAL0 is 16.
	Facility int
	// AppName is the APP-NAME field; empty means "vigil".
	AppName string
	// Timeout bounds dialing and each write; <= 0 means 5s.
	Timeout time.Duration
}

// SyslogSink sends alerts as RFC 5424 messages. Stream sockets (tcp,
// unix) use octet-counting framing (RFC 6587), datagrams one message each.
type SyslogSink struct {
	cfg  SyslogConfig
	conn net.Conn
	pid  int
	buf  []byte
}

// NewSyslogSink checks cfg; the connection is made on the first Send, so
// a syslog daemon that starts later is not an error.
func NewSyslogSink(cfg SyslogConfig) (*SyslogSink, error) {
	switch cfg.Network {
	case "unixgram", "unix", "udp", "tcp":
	default:
		return nil, fmt.Errorf("syslog output: network %q: want unixgram, unix, udp or tcp", cfg.Network)
	}
	if cfg.Address == "" {
		return nil, fmt.Errorf("syslog output: no address")
	}
	if cfg.Facility < 0 || cfg.Facility > 23 {
		return nil, fmt.Errorf("syslog output: facility %d out of 0-23", cfg.Facility)
	}
	if cfg.AppName == "" {
		cfg.AppName = "vigil"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	return &SyslogSink{cfg: cfg, pid: os.Getpid()}, nil
}

// Send writes one message, reconnecting first if the last write failed.
func (s *SyslogSink) Send(_ context.Context, a *alert.Alert) error {
	if s.conn == nil {
		c, err := net.DialTimeout(s.cfg.Network, s.cfg.Address, s.cfg.Timeout)
		if err != nil {
			return fmt.Errorf("syslog output: %w", err)
		}
		s.conn = c
	}
	msg := AppendRFC5424(nil, a, s.cfg.Facility, s.cfg.AppName, s.pid)
	s.buf = s.buf[:0]
	if s.cfg.Network == "tcp" || s.cfg.Network == "unix" {
		s.buf = append(strconv.AppendInt(s.buf, int64(len(msg)), 10), ' ')
	}
	s.buf = append(s.buf, msg...)
	err := s.conn.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
	if err == nil {
		_, err = s.conn.Write(s.buf)
	}
	if err != nil {
		_ = s.conn.Close() // broken already: the next Send dials again
		s.conn = nil
		return fmt.Errorf("syslog output: %w", err)
	}
	return nil
}

// Close closes the connection.
func (s *SyslogSink) Close() error {
	if s.conn == nil {
		return nil
	}
	return s.conn.Close()
}

// Severity maps a Falco priority to a syslog severity (0 emergency … 7
// debug); an unknown priority is a warning (4), Falco's most common one.
func Severity(priority string) int {
	if s, ok := alert.Severity(priority); ok {
		return s
	}
	return 4
}

// AppendRFC5424 appends a as one RFC 5424 message:
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID alert [vigil@32473 rule="…" priority="…" source="…"] MSG
//
// where MSG is "rule: output" on one line. 32473 is the example private
// enterprise number RFC 5424 reserves for documentation; structured data
// ids need one.
func AppendRFC5424(dst []byte, a *alert.Alert, facility int, app string, pid int) []byte {
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(facility*8+Severity(a.Priority)), 10)
	dst = append(dst, ">1 "...)
	if a.Time.IsZero() {
		dst = append(dst, '-')
	} else {
		dst = a.Time.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z")
	}
	dst = append(dst, ' ')
	dst = appendHeaderField(dst, a.Hostname, 255)
	dst = append(dst, ' ')
	dst = appendHeaderField(dst, app, 48)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(pid), 10)
	dst = append(dst, " alert [vigil@32473 rule=\""...)
	dst = appendParam(dst, a.Rule)
	dst = append(dst, "\" priority=\""...)
	dst = appendParam(dst, a.Priority)
	dst = append(dst, "\" source=\""...)
	dst = appendParam(dst, a.Source)
	dst = append(dst, "\"] "...)
	dst = append(dst, a.Rule...)
	dst = append(dst, ": "...)
	return append(dst, strings.ReplaceAll(strings.TrimRight(a.Output, "\n"), "\n", " ")...)
}

// appendHeaderField appends a header field: printable US-ASCII without
// spaces, at most max bytes, "-" when empty (RFC 5424 section 6).
func appendHeaderField(dst []byte, s string, max int) []byte {
	n := 0
	for i := 0; i < len(s) && n < max; i++ {
		if c := s[i]; c > 32 && c < 127 {
			dst = append(dst, c)
			n++
		}
	}
	if n == 0 {
		dst = append(dst, '-')
	}
	return dst
}

// appendParam appends a structured-data value, escaping '"', '\' and ']'
// as RFC 5424 section 6.3.3 requires.
func appendParam(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', ']':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
