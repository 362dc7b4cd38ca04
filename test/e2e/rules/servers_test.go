// busybox's TLS client (the container's wget) sends no
// signature_algorithms extension; since Go 1.25 a Go server refuses such a
// TLS 1.2 peer unless SHA-1 handshake signatures are allowed, as API
// servers built with older Go did. The suite's servers allow them.

//go:debug tlssha1=1

package rules_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// requestLog records what a server the suite runs was asked, so that an
// attack can check it really reached its target.
type requestLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *requestLog) add(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// find returns the first line containing sub, or "".
func (l *requestLog) find(sub string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return s
		}
	}
	return ""
}

// The servers inside the shared container's network namespace.
var (
	apiRequests      requestLog // the Kubernetes API server at 10.96.0.1:443
	metadataRequests requestLog // the cloud metadata service at 169.254.169.254:80
)

// certificate is a self-signed server certificate, its own CA.
type certificate struct {
	certPEM []byte
	tls     tls.Certificate
}

// apiServerCert makes the API server's certificate, for the names an
// in-cluster client checks.
func apiServerCert() (*certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		return nil, err
	}
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses:           []net.IP{net.ParseIP("10.96.0.1")},
	}
	der, err := x509.CreateCertificate(crand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &certificate{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		tls:     tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
	}, nil
}

// startContainerServers serves, inside the network namespace at ns, a
// Kubernetes API server on 10.96.0.1:443 (TLS, answers a request with
// the shared container's token, refuses others) and a cloud metadata
// service on 169.254.169.254:80 (hands out credentials); both log every
// request. They stop with the suite.
func startContainerServers(ns string, cert *certificate) error {
	var api, md net.Listener
	err := inNetns(ns, func() (err error) {
		if api, err = net.Listen("tcp4", "10.96.0.1:443"); err != nil {
			return err
		}
		md, err = net.Listen("tcp4", "169.254.169.254:80")
		return err
	})
	if err != nil {
		return err
	}
	apiSrv := &http.Server{
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert.tls}},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			authorized := r.Header.Get("Authorization") == "Bearer "+k8sToken
			apiRequests.add("%s %s authorized=%v", r.Method, r.URL.RequestURI(), authorized)
			w.Header().Set("Content-Type", "application/json")
			if !authorized {
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`))
				return
			}
			w.Write([]byte(`{"kind":"SecretList","apiVersion":"v1","items":[{"metadata":{"name":"db-password"},"data":{"password":"aHVudGVyMg=="}}]}`))
		}),
	}
	mdSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		metadataRequests.add("%s %s", r.Method, r.URL.RequestURI())
		if strings.HasPrefix(r.URL.Path, "/latest/meta-data/iam/security-credentials/") {
			w.Write([]byte(`{"Code":"Success","AccessKeyId":"ASIAE2E","SecretAccessKey":"e2e","Token":"e2e"}`))
			return
		}
		w.Write([]byte("iam/\ninstance-id\n"))
	})}
	go func() {
		if err := apiSrv.ServeTLS(api, "", ""); !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "fake API server:", err)
		}
	}()
	go func() {
		if err := mdSrv.Serve(md); !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "fake metadata server:", err)
		}
	}()
	atExit(func() {
		if err := errors.Join(apiSrv.Close(), mdSrv.Close()); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup: fake servers:", err)
		}
	})
	return nil
}

// c2 is a command-and-control server for reverse shells: it sends the
// shell that connects a command echoing the marker, then exit, and
// passes on what came back.
type c2 struct {
	replies chan string
}

func newC2() *c2 { return &c2{replies: make(chan string, 4)} }

func (s *c2) handle(m string) func(net.Conn) {
	return func(c net.Conn) {
		// A failure is told by the reply, which then lacks the answer.
		if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			s.replies <- "set deadline: " + err.Error()
			return
		}
		if _, err := fmt.Fprintf(c, "echo %s-$((6*7))\nexit\n", m); err != nil {
			s.replies <- "write: " + err.Error()
			return
		}
		out, _ := io.ReadAll(c)
		s.replies <- string(out)
	}
}

// answered waits for the shell's answer (the server may read the end of
// the connection just after the shell exits) and reports whether it
// holds want.
func (s *c2) answered(want string) bool {
	select {
	case out := <-s.replies:
		return strings.Contains(out, want)
	case <-time.After(10 * time.Second):
		return false
	}
}

// stratumPool is a mining pool's stratum endpoint: it answers a login
// with a job, as pools do, and records the logins.
type stratumPool struct {
	logins requestLog
}

func (p *stratumPool) handle(c net.Conn) {
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return // no login recorded: the attack's check fails
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return
	}
	var req struct {
		Method string `json:"method"`
		Params struct {
			Login string `json:"login"`
			Agent string `json:"agent"`
		} `json:"params"`
	}
	if json.Unmarshal([]byte(line), &req) != nil || req.Method != "login" {
		return
	}
	p.logins.add("login=%s agent=%s", req.Params.Login, req.Params.Agent)
	// The login is recorded, which is what is checked; a miner that
	// went away needs no job.
	_, _ = io.WriteString(c, `{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"e2e","job":{"blob":"0707","job_id":"e2e-1","target":"b88d0600","algo":"rx/0"},"status":"OK"}}`+"\n")
}
