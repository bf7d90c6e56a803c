// Package voicesim simulates the part of Vapi that AutoPulse uses, over
// real HTTP: it accepts POST /call, lets each call ring, connect and end
// after realistic (compressible) delays, and posts signed status-update and
// end-of-call-report webhooks back, with a transcript that fits the
// campaign, structured analysis, a cost and a recording URL it serves
// itself. Outcomes are seeded random with configurable rates; scripts make
// them deterministic, and faults (duplicate, reordered deliveries) can be
// switched on. It runs in-process (Handler) or standalone (Run).
//
// Endpoints:
//
//	POST /call                 place a call (Bearer API key)
//	GET  /call/{id}            a call's current state (Bearer API key)
//	GET  /call                 list calls: phoneNumberId, createdAtGe/Gt/Le/Lt, limit
//	GET  /recordings/{id}.wav  the call's recording (no auth, like a storage URL)
//	POST /simulate/inbound     have a customer call in (Bearer API key); not part of Vapi
//	GET  /healthz              liveness
package voicesim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/voice"
)

// Server is a running simulator. Create it with New; stop it with Close
// (or by cancelling Run's context).
type Server struct {
	cfg  Config
	log  *slog.Logger
	mux  *http.ServeMux
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	rng      *rand.Rand
	calls    map[string]*call
	order    []string // call ids, oldest first
	byNumber map[string]Script
	byCallID map[string]Script
	faults   Faults
	lastBase string

	dialed, inbound, delivered, retries, failures atomic.Int64
}

// New validates cfg and returns a server. It starts nothing: mount
// Handler, or call Run.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("voicesim: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "voicesim"),
		ctx:      ctx,
		stop:     stop,
		rng:      rand.New(rand.NewPCG(uint64(cfg.Seed), 0x766f69636573696d)), //nolint:gosec // simulated outcomes, not secrets
		calls:    map[string]*call{},
		byNumber: map[string]Script{},
		byCallID: map[string]Script{},
		faults:   cfg.Faults,
	}
	for number, sc := range cfg.Scripts {
		s.byNumber[number] = sc
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /call", s.authorized(s.handleCreate))
	s.mux.HandleFunc("GET /call/{id}", s.authorized(s.handleGet))
	s.mux.HandleFunc("GET /call", s.authorized(s.handleList))
	s.mux.HandleFunc("GET /recordings/{file}", s.handleRecording)
	s.mux.HandleFunc("POST /simulate/inbound", s.authorized(s.handleInbound))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	return s, nil
}

// Handler returns the simulator's HTTP API.
func (s *Server) Handler() http.Handler { return s.mux }

// Run serves the API on cfg.Listen until ctx ends, then stops the calls in
// flight and returns. A nil error means a clean stop.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("voicesim: %w", err)
	}
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	s.log.InfoContext(ctx, "voicesim listening", "addr", ln.Addr().String(), "webhook_url", s.cfg.WebhookURL, "speed", s.cfg.Speed)
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err = srv.Serve(ln)
	s.Close()
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return fmt.Errorf("voicesim: %w", err)
}

// Close stops every simulated call (no more webhooks) and waits for them.
// The API then refuses new calls with 503.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop()
	s.wg.Wait()
}

// ScriptNumber forces the outcome of every later call to number.
func (s *Server) ScriptNumber(number string, sc Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byNumber[number] = sc
}

// ScriptCall forces the outcome of the call placed with callID (AutoPulse's
// id, the metadata's autopulse_call_id). It wins over a number's script.
func (s *Server) ScriptCall(callID string, sc Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byCallID[callID] = sc
}

// ClearScripts forgets every script, those from the Config included.
func (s *Server) ClearScripts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.byNumber)
	clear(s.byCallID)
}

// SetFaults changes the fault rates for later calls.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Stats counts what the simulator did.
type Stats struct {
	Dialed    int64 // outbound calls accepted
	Inbound   int64 // inbound calls simulated
	Delivered int64 // webhook deliveries answered 2xx
	Retries   int64 // webhook attempts after a failed one
	Failures  int64 // webhook messages given up on
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Dialed: s.dialed.Load(), Inbound: s.inbound.Load(), Delivered: s.delivered.Load(),
		Retries: s.retries.Load(), Failures: s.failures.Load(),
	}
}

// InboundCall describes a simulated call from a customer to the line.
type InboundCall struct {
	From           string // the customer's E.164 number; required
	To             string // the line called; default Config.PhoneNumber
	CustomerName   string
	Booking        *bool  // the caller books (true) or asks a question (false); nil draws
	Topic          string // the question's subject; empty picks one
	OrganizationID uuid.UUID
	Metadata       map[string]string // the assistant's metadata, echoed in webhooks
}

// Inbound simulates a customer calling the line: status updates and an
// end-of-call report follow, as for a dialed call, with structured data
// that yields a booking or an inquiry. It returns the provider call id.
func (s *Server) Inbound(in InboundCall) (string, error) {
	return s.startInbound(in, "")
}

func (s *Server) startInbound(in InboundCall, base string) (string, error) {
	if !voice.ValidE164(in.From) {
		return "", fmt.Errorf("from %q is not E.164", in.From)
	}
	if in.To == "" {
		in.To = s.cfg.PhoneNumber
	}
	if !voice.ValidE164(in.To) {
		return "", fmt.Errorf("to %q is not E.164", in.To)
	}
	if len(in.Topic) > 200 || len(in.CustomerName) > 200 || len(in.Metadata) > 32 {
		return "", errors.New("topic, customer name or metadata too large")
	}
	meta := map[string]string{}
	for k, v := range in.Metadata {
		meta[k] = v
	}
	if in.OrganizationID != uuid.Nil {
		meta[voice.MetaOrganizationID] = in.OrganizationID.String()
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	c := &call{
		id:            uuid.NewString(),
		direction:     voice.Inbound,
		createdAt:     now,
		customer:      customerObject{Number: in.From, Name: in.CustomerName},
		phoneNumberID: s.cfg.PhoneNumberID,
		line:          in.To,
		meta:          meta,
		status:        string(voice.StatusRinging),
		updatedAt:     now,
	}
	f := factsFrom("", in.CustomerName, "", in.To, nil)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", errors.New("voicesim is closed")
	}
	c.base = firstNonEmpty(s.cfg.PublicURL, base, s.lastBase, "http://"+s.cfg.Listen)
	sc := s.byNumber[in.From]
	if in.Booking != nil {
		sc.Booking = in.Booking
	}
	d := draw(s.rng, s.cfg.Rates, s.faults, &sc)
	c.plan = planInbound(d, f, firstNonEmpty(in.Topic, sc.Topic), now)
	s.addLocked(c)
	s.mu.Unlock()
	s.inbound.Add(1)
	s.log.Info("inbound call", "call_id", c.id, "from", in.From, "booking", d.booking)
	return c.id, nil
}

// authorized checks the Bearer API key in constant time.
func (s *Server) authorized(h http.HandlerFunc) http.HandlerFunc {
	want := sha256.Sum256([]byte(s.cfg.APIKey))
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		got := sha256.Sum256([]byte(token))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			writeError(w, http.StatusUnauthorized, "Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa.")
			return
		}
		h(w, r)
	}
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCreateBodyBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "request body is too large")
		return
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(body, &props); err != nil {
		writeError(w, http.StatusBadRequest, "body must be a JSON object")
		return
	}
	var problems []string
	for k := range props {
		switch {
		case slices.Contains(handledProperties, k):
		case slices.Contains(refusedProperties, k):
			problems = append(problems, fmt.Sprintf("property %s is valid for Vapi but not simulated", k))
		default:
			problems = append(problems, fmt.Sprintf("property %s should not exist", k))
		}
	}
	var req createRequest
	if err := json.Unmarshal(body, &req); err != nil {
		problems = append(problems, "body has a property of the wrong type: "+err.Error())
	}
	var over, inline assistantFields
	if len(req.AssistantOverrides) > 0 && json.Unmarshal(req.AssistantOverrides, &over) != nil {
		problems = append(problems, "assistantOverrides must be an object with string firstMessage and object variableValues, metadata")
	}
	hasInline := len(req.Assistant) > 0 && string(req.Assistant) != "null"
	if hasInline && json.Unmarshal(req.Assistant, &inline) != nil {
		problems = append(problems, "assistant must be an assistant object")
	}
	switch {
	case req.AssistantID == "" && !hasInline:
		problems = append(problems, "assistantId or assistant is required")
	case req.AssistantID != "" && hasInline:
		problems = append(problems, "use assistantId or assistant, not both")
	}
	switch {
	case req.PhoneNumberID == "":
		problems = append(problems, "phoneNumberId is required")
	case req.PhoneNumberID != s.cfg.PhoneNumberID:
		problems = append(problems, fmt.Sprintf("phone number %s not found", req.PhoneNumberID))
	}
	switch {
	case req.Customer == nil:
		problems = append(problems, "customer is required")
	case !voice.ValidE164(req.Customer.Number):
		problems = append(problems, "customer.number must be a valid phone number in the E.164 format")
	case len([]rune(req.Customer.Name)) > 40:
		problems = append(problems, "customer.name must be shorter than or equal to 40 characters")
	}
	if len([]rune(req.Name)) > 40 {
		problems = append(problems, "name must be shorter than or equal to 40 characters")
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		writeError(w, http.StatusBadRequest, problems...)
		return
	}

	meta := stringMap(inline.Metadata)
	for k, v := range stringMap(over.Metadata) {
		meta[k] = v
	}
	vars := stringMap(inline.VariableValues)
	for k, v := range stringMap(over.VariableValues) {
		vars[k] = v
	}
	firstMessage := firstNonEmpty(over.FirstMessage, inline.FirstMessage)
	var prompt string
	if inline.Model != nil && len(inline.Model.Messages) > 0 {
		prompt = inline.Model.Messages[0].Content
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	c := &call{
		id:            uuid.NewString(),
		direction:     voice.Outbound,
		createdAt:     now,
		campaign:      meta[voice.MetaCampaignType],
		customer:      *req.Customer,
		phoneNumberID: req.PhoneNumberID,
		line:          s.cfg.PhoneNumber,
		assistantID:   req.AssistantID,
		overrides:     req.AssistantOverrides,
		systemPrompt:  prompt,
		meta:          meta,
		status:        string(voice.StatusQueued),
		updatedAt:     now,
	}
	f := factsFrom(c.campaign, req.Customer.Name, firstMessage, c.line, vars)

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "voicesim is shutting down")
		return
	}
	s.lastBase = baseURL(r)
	c.base = firstNonEmpty(s.cfg.PublicURL, s.lastBase)
	sc, ok := s.byCallID[meta[voice.MetaCallID]]
	if !ok {
		sc, ok = s.byNumber[req.Customer.Number]
	}
	var scp *Script
	if ok {
		scp = &sc
	}
	c.plan = planOutbound(draw(s.rng, s.cfg.Rates, s.faults, scp), f, now)
	s.addLocked(c)
	obj := s.objectLocked(c)
	s.mu.Unlock()

	s.dialed.Add(1)
	s.log.Info("call placed", "call_id", c.id, "autopulse_call_id", meta[voice.MetaCallID], "outcome", c.plan.outcome)
	writeJSON(w, http.StatusCreated, obj)
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c, ok := s.calls[r.PathValue("id")]
	var obj callObject
	if ok {
		obj = s.objectLocked(c)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Call not found")
		return
	}
	writeJSON(w, http.StatusOK, obj)
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit must be an integer from 1 to 1000")
			return
		}
		limit = n
	}
	bounds := map[string]time.Time{}
	for _, k := range []string{"createdAtGt", "createdAtGe", "createdAtLt", "createdAtLe"} {
		if v := q.Get(k); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, k+" must be an ISO 8601 date-time")
				return
			}
			bounds[k] = t
		}
	}
	keep := func(c *call) bool {
		if v := q.Get("phoneNumberId"); v != "" && c.phoneNumberID != v {
			return false
		}
		if v := q.Get("assistantId"); v != "" && c.assistantID != v {
			return false
		}
		if v := q.Get("id"); v != "" && c.id != v {
			return false
		}
		t := c.createdAt
		if b, ok := bounds["createdAtGt"]; ok && !t.After(b) {
			return false
		}
		if b, ok := bounds["createdAtGe"]; ok && t.Before(b) {
			return false
		}
		if b, ok := bounds["createdAtLt"]; ok && !t.Before(b) {
			return false
		}
		if b, ok := bounds["createdAtLe"]; ok && t.After(b) {
			return false
		}
		return true
	}
	s.mu.Lock()
	out := []callObject{}
	for i := len(s.order) - 1; i >= 0 && len(out) < limit; i-- {
		if c := s.calls[s.order[i]]; keep(c) {
			out = append(out, s.objectLocked(c))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleRecording(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".wav")
	s.mu.Lock()
	c, found := s.calls[id]
	ready := ok && found && c.plan.recording && c.reported
	var mod time.Time
	if ready {
		mod = c.endedAt
	}
	s.mu.Unlock()
	if !ready {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, id+".wav", mod, bytes.NewReader(recording()))
}

func (s *Server) handleInbound(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	var req inboundRequest
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid body: "+err.Error())
		return
	}
	in := InboundCall{From: req.From, To: req.To, CustomerName: req.CustomerName, Topic: req.Topic, Metadata: req.Metadata}
	switch req.Intent {
	case "":
	case "booking":
		in.Booking = Ptr(true)
	case "inquiry":
		in.Booking = Ptr(false)
	default:
		writeError(w, http.StatusBadRequest, "intent must be inquiry, booking or empty")
		return
	}
	if req.OrganizationID != "" {
		id, err := uuid.Parse(req.OrganizationID)
		if err != nil {
			writeError(w, http.StatusBadRequest, "organizationId must be a UUID")
			return
		}
		in.OrganizationID = id
	}
	id, err := s.startInbound(in, baseURL(r))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	obj := s.objectLocked(s.calls[id])
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, obj)
}

// addLocked stores c, starts its simulation and forgets the oldest ended
// calls beyond MaxCalls.
func (s *Server) addLocked(c *call) {
	s.calls[c.id] = c
	s.order = append(s.order, c.id)
	if len(s.order) > s.cfg.MaxCalls {
		kept := s.order[:0]
		excess := len(s.order) - s.cfg.MaxCalls
		for _, id := range s.order {
			if excess > 0 && s.calls[id].reported {
				delete(s.calls, id)
				excess--
				continue
			}
			kept = append(kept, id)
		}
		s.order = kept
	}
	s.wg.Add(1)
	go s.simulate(c)
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func stringMap(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, messages ...string) {
	var msg any = messages
	if len(messages) == 1 {
		msg = messages[0]
	}
	writeJSON(w, status, errorBody{Message: msg, Error: http.StatusText(status), StatusCode: status})
}
