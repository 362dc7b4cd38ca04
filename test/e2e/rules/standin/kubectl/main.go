// Command kubectl stands in for kubectl in the attack suite (Debian has no
// kubectl package). It does what `kubectl get RESOURCE` does in a pod with
// the in-cluster configuration: it reads the service-account token, CA and
// namespace from /var/run/secrets/kubernetes.io/serviceaccount, connects
// to KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT (10.96.0.1:443 when
// unset) over TLS verified with that CA, and lists the resource with the
// token as bearer, printing the server's answer.
//
// Usage: kubectl get RESOURCE [-n NAMESPACE] [-l SELECTOR]
package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kubectl:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 || args[0] != "get" {
		return errors.New("usage: kubectl get RESOURCE [-n NAMESPACE] [-l SELECTOR]")
	}
	resource := args[1]
	token, err := os.ReadFile(saDir + "/token")
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(saDir + "/ca.crt")
	if err != nil {
		return err
	}
	ns, err := os.ReadFile(saDir + "/namespace")
	if err != nil {
		return err
	}
	namespace, selector := strings.TrimSpace(string(ns)), ""
	for i := 2; i+1 < len(args); i += 2 {
		switch args[i] {
		case "-n", "--namespace":
			namespace = args[i+1]
		case "-l", "--selector":
			selector = args[i+1]
		default:
			return fmt.Errorf("unknown flag %s", args[i])
		}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return errors.New("no certificate in ca.crt")
	}
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" {
		host, port = "10.96.0.1", "443"
	}
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			// In-cluster clients name the API server by its service name.
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "kubernetes.default.svc"},
		},
	}
	u := url.URL{Scheme: "https", Host: net.JoinHostPort(host, port),
		Path: "/api/v1/namespaces/" + namespace + "/" + resource}
	if selector != "" {
		u.RawQuery = url.Values{"labelSelector": {selector}}.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "kubectl/v1.29.0 (linux/amd64) kubernetes/e2e")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	fmt.Printf("%s\n%s\n", resp.Status, body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the server answered %s", resp.Status)
	}
	return nil
}
