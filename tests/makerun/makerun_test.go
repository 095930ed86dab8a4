// Package makerun checks `make run` as people use and stop it: built
// once, one line a request, JSON logs in a file, and whatever signal
// stops it, nothing it started is left running.
package makerun

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/waickoff/waickoff/shared/samtemplate"
)

// running is one `make run`.
type running struct {
	cmd     *exec.Cmd
	url     string
	logFile string
	server  int // the local server's pid
	moto    int // moto's pid

	mu  sync.Mutex
	out strings.Builder
	eof chan struct{} // closed when every process holding the output has ended
}

func (r *running) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

var (
	pidRE  = regexp.MustCompile(`started in [^;]+; pid (\d+)`)
	motoRE = regexp.MustCompile(`\(moto, pid (\d+)\)`)
)

// start runs `make run` on a free port, in a process group of its own
// (as a shell runs a job), and waits for its banner.
func start(t *testing.T) *running {
	t.Helper()
	_, root, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &running{url: "http://127.0.0.1:" + strconv.Itoa(port), logFile: filepath.Join(t.TempDir(), "run.log")}
	r.cmd = exec.Command("make", "--no-print-directory", "-C", root, "run", "RUN_LOG="+r.logFile)
	r.cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The output is a pipe of the test's own, not StdoutPipe: Wait closes
	// a StdoutPipe as soon as make ends, dropping what the server wrote
	// last; this one is read to its end, which comes only when every
	// process that holds it (make, the server, moto) has ended.
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stdout, r.cmd.Stderr = w, w
	err = r.cmd.Start()
	w.Close()
	if err != nil {
		stdout.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL) })
	banner := make(chan struct{})
	r.eof = make(chan struct{})
	go func() {
		defer close(r.eof)
		defer stdout.Close()
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			r.mu.Lock()
			r.out.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			if m := pidRE.FindStringSubmatch(sc.Text()); m != nil {
				r.server, _ = strconv.Atoi(m[1])
				once.Do(func() { close(banner) })
			}
			if m := motoRE.FindStringSubmatch(sc.Text()); m != nil {
				r.moto, _ = strconv.Atoi(m[1])
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case <-banner:
	case <-time.After(3 * time.Minute):
		t.Fatalf("make run printed no banner:\n%s", r.output())
	}
	return r
}

// stop waits for make to end and checks that nothing it started is
// left: not the server, not moto, nothing in make's process group.
func (r *running) stop(t *testing.T) *os.ProcessState {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("make run did not stop:\n%s", r.output())
	}
	select {
	case <-r.eof:
	case <-time.After(30 * time.Second):
		t.Errorf("30 s after make ended, a process it started still holds its output open:\n%s", r.output())
	}
	for name, pid := range map[string]int{"the server": r.server, "moto": r.moto} {
		if alive(pid) {
			t.Errorf("%s (pid %d) is still running", name, pid)
		}
	}
	if err := syscall.Kill(-r.cmd.Process.Pid, 0); err != syscall.ESRCH {
		t.Errorf("make's process group still has processes (kill -0: %v)", err)
	}
	if !strings.Contains(r.output(), "\nstopped\n") {
		t.Errorf("the server did not report a clean stop:\n%s", r.output())
	}
	if strings.Contains(r.output(), "Error") {
		t.Errorf("make reported an error:\n%s", r.output())
	}
	return r.cmd.ProcessState
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

func TestMakeRun(t *testing.T) {
	t.Run("SIGTERM to the server", func(t *testing.T) {
		r := start(t)
		// One request: one console line, and JSON logs in the file.
		resp, err := http.Get(r.url + "/api/v1/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		lineRE := regexp.MustCompile(`(?m)^GET /api/v1/health 200 \d+\.\d ms 0 tokens$`)
		deadline := time.Now().Add(5 * time.Second)
		for !lineRE.MatchString(r.output()) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if !lineRE.MatchString(r.output()) {
			t.Errorf("no request line for GET /api/v1/health:\n%s", r.output())
		}
		if strings.Contains(r.output(), `"level"`) {
			t.Errorf("JSON logs on the console:\n%s", r.output())
		}
		if !strings.Contains(r.output(), "JSON logs:   "+r.logFile) {
			t.Errorf("the banner does not name the log file %s", r.logFile)
		}
		if err := syscall.Kill(r.server, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		st := r.stop(t)
		if st.ExitCode() != 0 {
			t.Errorf("make run ended with %v, want exit 0", st)
		}
		logs, err := os.ReadFile(r.logFile)
		if err != nil || !strings.Contains(string(logs), `"msg":"gateway"`) || !strings.Contains(string(logs), `"path":"/api/v1/health"`) {
			t.Errorf("the log file has no JSON line for the request (%v):\n%.500s", err, logs)
		}
	})
	t.Run("SIGTERM to make", func(t *testing.T) {
		r := start(t)
		if err := syscall.Kill(r.cmd.Process.Pid, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		st := r.stop(t)
		// GNU make passes SIGTERM to its job, waits for it, then ends
		// by the signal it was sent (it re-raises it): the job itself
		// (the server) exited 0 and printed "stopped", checked by stop.
		if ws := st.Sys().(syscall.WaitStatus); st.ExitCode() != 0 && !(ws.Signaled() && ws.Signal() == syscall.SIGTERM) {
			t.Errorf("make run ended with %v", st)
		}
	})
	t.Run("Ctrl-C", func(t *testing.T) {
		r := start(t)
		// A terminal's Ctrl-C: SIGINT to the whole foreground group.
		if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		st := r.stop(t)
		if ws := st.Sys().(syscall.WaitStatus); st.ExitCode() != 0 && !(ws.Signaled() && ws.Signal() == syscall.SIGINT) {
			t.Errorf("make run ended with %v", st)
		}
	})
}

// make run and make test check the pinned Python packages first: with a
// package missing or at another version they stop with one line that
// says what to run, before building or starting anything.
func TestPythonPackagesChecked(t *testing.T) {
	_, root, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "requirements.txt")
	if err := os.WriteFile(bad, []byte("moto==0.0.1\nno-such-package-waickoff==1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"run", "test"} {
		out, err := exec.Command("make", "--no-print-directory", "-s", "-C", root, target, "REQUIREMENTS="+bad).CombinedOutput()
		if err == nil {
			t.Fatalf("make %s went on with wrong Python packages:\n%s", target, out)
		}
		want := regexp.MustCompile(`^Makefile:\d+: \*\*\* Python packages not as pinned \(moto \S+, want 0\.0\.1; no-such-package-waickoff missing\): run \S*python\S* -m pip install -r ` + regexp.QuoteMeta(bad) + `\.  Stop\.\n$`)
		if !want.Match(out) {
			t.Errorf("make %s said:\n%s", target, out)
		}
	}
	out, err := exec.Command("make", "--no-print-directory", "-s", "-C", root, "py-check").CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("the pinned versions of infra/requirements.txt are not the ones installed: %v\n%s", err, out)
	}
}

// make fuzz shows a failing target's output and the path of the input
// that failed (a target of testdata/failingfuzz fails on inputs "hi...").
func TestFuzzShowsTheFailure(t *testing.T) {
	_, root, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	const pkg = "tests/makerun/testdata/failingfuzz"
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Join(root, pkg, "testdata")) })
	out, err := exec.Command("make", "--no-print-directory", "-C", root, "fuzz", "FUZZ_PKGS=./"+pkg, "FUZZTIME=60s").CombinedOutput()
	if err == nil {
		t.Fatalf("make fuzz passed a failing target:\n%s", out)
	}
	if !strings.Contains(string(out), `found "hi`) {
		t.Errorf("make fuzz does not show the target's failure:\n%s", out)
	}
	m := regexp.MustCompile(`(?m)^failing input: (` + regexp.QuoteMeta(pkg) + `/testdata/fuzz/FuzzFails/\w+) `).FindSubmatch(out)
	if m == nil {
		t.Fatalf("make fuzz does not name the failing input:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, string(m[1]))); err != nil {
		t.Errorf("the named input %s: %v", m[1], err)
	}
}

// make help lists every target the Makefile describes (## after its
// name), and the everyday ones are among them.
func TestHelpListsTheTargets(t *testing.T) {
	_, root, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("make", "--no-print-directory", "-s", "-C", root, "help").CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	described := regexp.MustCompile(`(?m)^([a-zA-Z_-]+):.*## `).FindAllSubmatch(makefile, -1)
	if len(described) < 10 {
		t.Fatalf("the Makefile describes %d targets", len(described))
	}
	for _, m := range described {
		if !regexp.MustCompile(`(?m)^  make ` + string(m[1]) + ` +\S`).Match(out) {
			t.Errorf("make help does not list %s:\n%s", m[1], out)
		}
	}
	for _, want := range []string{"run", "test", "fuzz", "bench", "sizes", "build", "docs-assets"} {
		if !regexp.MustCompile(`(?m)^  make ` + want + ` `).Match(out) {
			t.Errorf("make help does not list %s", want)
		}
	}
}
