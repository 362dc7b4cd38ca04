// Command xmrig stands in for the XMRig miner in the attack suite (no
// miner is packaged, and a real one would burn the machine's CPU). It
// does what a miner does on the network when it starts: it connects to
// the pool named by -o (stratum+tcp://HOST:PORT), logs in with the
// wallet given by -u, as XMRig's stratum JSON-RPC does, and prints the
// first job the pool sends back. Other XMRig flags are accepted and
// ignored.
//
// Usage: xmrig -o stratum+tcp://HOST:PORT -u WALLET [-p PASS] [...]
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "xmrig:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var pool, wallet, pass string
	pass = "x"
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-o", "--url":
			pool, i = args[i+1], i+1
		case "-u", "--user":
			wallet, i = args[i+1], i+1
		case "-p", "--pass":
			pass, i = args[i+1], i+1
		}
	}
	addr, ok := strings.CutPrefix(pool, "stratum+tcp://")
	if !ok || wallet == "" {
		return errors.New("usage: xmrig -o stratum+tcp://HOST:PORT -u WALLET [-p PASS]")
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close() //nolint:errcheck // what was written is checked by Write: closing loses nothing
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	login := map[string]any{
		"id": 1, "jsonrpc": "2.0", "method": "login",
		"params": map[string]any{
			"login": wallet, "pass": pass, "rigid": "",
			"agent": "XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0",
			"algo":  []string{"rx/0", "cn/r", "cn/2"},
		},
	}
	line, _ := json.Marshal(login)
	if _, err := c.Write(append(line, '\n')); err != nil {
		return err
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	var job struct {
		Result struct {
			Job struct {
				JobID string `json:"job_id"`
			} `json:"job"`
			Status string `json:"status"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(reply), &job); err != nil {
		return fmt.Errorf("pool answered %q: %w", reply, err)
	}
	fmt.Printf("[%s] new job from %s diff 1000 algo rx/0 job %s (%s)\n",
		time.Now().Format("2006-01-02 15:04:05.000"), addr, job.Result.Job.JobID, job.Result.Status)
	return nil
}
