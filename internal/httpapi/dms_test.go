package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/access"
	"github.com/autopulse/autopulse/internal/audit"
	"github.com/autopulse/autopulse/internal/record"
)

const dmsPath = "/api/v1/dms-integrations"

// dmsExport is a DMS's CSV export over HTTPS, behind Basic auth.
type dmsExport struct {
	srv      *httptest.Server
	mu       sync.Mutex
	status   int      // answer this instead of the file, when set
	since    []string // the since parameter of each request
	password string
	content  string
}

func newDMSExport(t *testing.T) *dmsExport {
	t.Helper()
	x := &dmsExport{password: "s3cret-pass", content: csvHeader +
		csvRow("D-1", "2026-03-02", "(202) 555-0101", "1HGCM82633A004352", 1000) +
		csvRow("D-2", "2026-03-03", "(202) 555-0102", "", 2000)}
	x.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x.mu.Lock()
		defer x.mu.Unlock()
		x.since = append(x.since, r.URL.Query().Get("modified_since"))
		user, pass, ok := r.BasicAuth()
		switch {
		case r.URL.Path != "/export.csv":
			http.NotFound(w, r)
		case !ok || user != "dealer" || pass != x.password || r.Header.Get("X-API-Key") != "key-123":
			w.WriteHeader(http.StatusUnauthorized)
		case x.status != 0:
			w.WriteHeader(x.status)
		default:
			w.Header().Set("Content-Type", "text/csv")
			_, _ = w.Write([]byte(x.content))
		}
	}))
	t.Cleanup(x.srv.Close)
	return x
}

func (x *dmsExport) set(f func(x *dmsExport)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	f(x)
}

func (e *env) createIntegration(t *testing.T, tok reqOpt, body map[string]any) (record.Integration, *response) {
	t.Helper()
	res := e.do(t, http.MethodPost, dmsPath, tok, withJSON(body))
	requireStatus(t, http.StatusCreated, res)
	var i record.Integration
	res.decode(t, &i)
	return i, res
}

func csvIntegration(url string) map[string]any {
	return map[string]any{"name": "Nightly export", "type": "csv", "config": map[string]any{
		"url": url + "/export.csv", "username": "dealer", "password": "s3cret-pass", "api_key": "key-123", "since_param": "modified_since",
	}}
}

// sealedSecrets reads an integration's stored columns as the owner.
func (e *env) sealedSecrets(t *testing.T, id uuid.UUID) (config, sealed []byte) {
	t.Helper()
	require.NoError(t, e.db.Owner.QueryRow(context.Background(),
		`SELECT config::text, config_secret FROM dms_integrations WHERE id = $1`, id).Scan(&config, &sealed))
	return config, sealed
}

// Secrets are sealed at rest, bound to their row, and never returned.
func TestDMSIntegrationSecrets(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	secrets := []string{"s3cret-pass", "key-123"}

	integ, res := e.createIntegration(t, tok, csvIntegration("https://dms.example.com"))
	for _, s := range secrets {
		require.NotContains(t, string(res.Body), s)
	}
	require.Equal(t, []string{"api_key", "password"}, integ.SecretsSet)
	require.Equal(t, "dealer", integ.Config["username"])
	require.NotContains(t, integ.Config, "password")
	require.True(t, integ.AdapterAvailable)

	// At rest: the settings hold no secret, the sealed column no plaintext,
	// and the sealed value opens only with the key and for its own row.
	config, sealed := e.sealedSecrets(t, integ.ID)
	for _, s := range secrets {
		require.NotContains(t, string(config), s)
		require.False(t, bytes.Contains(sealed, []byte(s)), "ciphertext ≠ plaintext")
	}
	plain, err := e.sealer.Open(sealed, record.IntegrationSecretAAD(tn.OrgID, integ.ID))
	require.NoError(t, err)
	var opened map[string]string
	require.NoError(t, json.Unmarshal(plain, &opened))
	require.Equal(t, map[string]string{"password": "s3cret-pass", "api_key": "key-123"}, opened)
	_, err = e.sealer.Open(sealed, record.IntegrationSecretAAD(tn.OrgID, uuid.New()))
	require.ErrorIs(t, err, record.ErrUnsealable, "another row's value does not open")
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	_, err = e.sealer.Open(tampered, record.IntegrationSecretAAD(tn.OrgID, integ.ID))
	require.ErrorIs(t, err, record.ErrUnsealable, "tampered ciphertext does not open")
	otherKey, err := record.NewSealer(bytes.Repeat([]byte{7}, record.KeySize))
	require.NoError(t, err)
	_, err = otherKey.Open(sealed, record.IntegrationSecretAAD(tn.OrgID, integ.ID))
	require.ErrorIs(t, err, record.ErrUnsealable, "another key does not open it")

	// Rotate one secret, remove another and a setting (JSON merge patch).
	res = e.do(t, http.MethodPatch, dmsPath+"/"+integ.ID.String(), tok, withJSON(map[string]any{
		"config": map[string]any{"password": "n3w-pass", "api_key": nil, "since_param": nil}, "timeout_seconds": 10,
	}))
	requireStatus(t, http.StatusOK, res)
	require.NotContains(t, string(res.Body), "n3w-pass")
	var patched record.Integration
	res.decode(t, &patched)
	require.Equal(t, []string{"password"}, patched.SecretsSet)
	require.NotContains(t, patched.Config, "since_param")
	require.Equal(t, "dealer", patched.Config["username"])
	require.Equal(t, int32(10), patched.TimeoutSeconds)
	_, sealed2 := e.sealedSecrets(t, integ.ID)
	plain, err = e.sealer.Open(sealed2, record.IntegrationSecretAAD(tn.OrgID, integ.ID))
	require.NoError(t, err)
	require.JSONEq(t, `{"password":"n3w-pass"}`, string(plain))
	require.NotEqual(t, sealed, sealed2)

	// Never in reads or in the audit log.
	for _, path := range []string{dmsPath, dmsPath + "/" + integ.ID.String(), "/api/v1/audit-logs?entity=dms_integration"} {
		res = e.do(t, http.MethodGet, path, tok)
		requireStatus(t, http.StatusOK, res)
		for _, s := range append(secrets, "n3w-pass") {
			require.NotContains(t, string(res.Body), s, path)
		}
	}
	res = e.do(t, http.MethodGet, "/api/v1/audit-logs?entity=dms_integration&entity_id="+integ.ID.String(), tok)
	var logs struct{ Items []audit.Entry }
	res.decode(t, &logs)
	require.Len(t, logs.Items, 2)
	require.Contains(t, string(logs.Items[0].NewValue), `"secrets_set":["password"]`)

	// A row whose sealed value was tampered with does not open: reads fail
	// loudly (500, logged), but the integration can still be deleted.
	tampered = bytes.Clone(sealed2)
	tampered[10] ^= 1
	_, err = e.db.Owner.Exec(context.Background(), `UPDATE dms_integrations SET config_secret = $1 WHERE id = $2`, tampered, integ.ID)
	require.NoError(t, err)
	res = e.do(t, http.MethodGet, dmsPath+"/"+integ.ID.String(), tok)
	requireStatus(t, http.StatusInternalServerError, res)
	require.NotContains(t, string(res.Body), "n3w-pass")
	res = e.do(t, http.MethodDelete, dmsPath+"/"+integ.ID.String(), tok)
	requireStatus(t, http.StatusNoContent, res)
	res = e.do(t, http.MethodGet, dmsPath+"/"+integ.ID.String(), tok)
	requireStatus(t, http.StatusNotFound, res)
}

func TestDMSIntegrationTestAndSync(t *testing.T) {
	t.Parallel()
	x := newDMSExport(t)
	e := setup(t, withDMSClient(x.srv.Client()))
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	integ, _ := e.createIntegration(t, tok, csvIntegration(x.srv.URL))
	path := dmsPath + "/" + integ.ID.String()

	test := func() record.IntegrationTest {
		t.Helper()
		res := e.do(t, http.MethodPost, path+"/test", tok)
		requireStatus(t, http.StatusOK, res)
		var r record.IntegrationTest
		res.decode(t, &r)
		return r
	}
	require.Equal(t, record.IntegrationTest{OK: true}, test())
	x.set(func(x *dmsExport) { x.password = "rotated" })
	got := test()
	require.False(t, got.OK)
	require.Equal(t, "auth", got.Class)
	require.Contains(t, got.Message, "401")

	sync := func() record.Import {
		t.Helper()
		res := e.do(t, http.MethodPost, path+"/sync", tok)
		requireStatus(t, http.StatusAccepted, res)
		var imp record.Import
		res.decode(t, &imp)
		require.Equal(t, record.ImportSourceDMS, imp.Source)
		require.Equal(t, integ.ID, *imp.DMSIntegrationID)
		e.runImport(t, tn, imp.ID)
		return e.getImport(t, tn, imp.ID)
	}
	// Refused credentials fail the sync at once (no retry can help).
	imp := sync()
	require.Equal(t, record.ImportFailed, imp.Status)
	require.Contains(t, imp.Failure, "auth")
	res := e.do(t, http.MethodGet, path, tok)
	var cur record.Integration
	res.decode(t, &cur)
	require.Equal(t, "failed", *cur.LastSyncStatus)

	x.set(func(x *dmsExport) { x.password = "s3cret-pass" })
	imp = sync()
	require.Equal(t, record.ImportCompleted, imp.Status, "failure: %s", imp.Failure)
	require.Equal(t, 2, imp.Counts.Inserted)
	res = e.do(t, http.MethodGet, "/api/v1/service-records?source=dms", tok)
	var l struct{ Items []record.ServiceRecord }
	res.decode(t, &l)
	require.Len(t, l.Items, 2)
	require.Equal(t, integ.ID, *l.Items[0].DMSIntegrationID)
	res = e.do(t, http.MethodGet, path, tok)
	res.decode(t, &cur)
	require.Equal(t, "completed", *cur.LastSyncStatus)
	require.NotNil(t, cur.LastSyncAt)

	// The next pull asks for what changed since the last good one.
	imp = sync()
	require.Equal(t, 2, imp.Counts.Unchanged)
	x.mu.Lock()
	since := x.since[len(x.since)-1]
	x.mu.Unlock()
	require.Equal(t, cur.LastSyncAt.Add(-15*time.Minute).UTC().Format(time.RFC3339), since, "with a margin for clock skew")

	// A DMS that is down is retried; the last attempt fails the import.
	// Meanwhile no second sync starts.
	x.set(func(x *dmsExport) { x.status = http.StatusBadGateway })
	res = e.do(t, http.MethodPost, path+"/sync", tok)
	requireStatus(t, http.StatusAccepted, res)
	res.decode(t, &imp)
	require.Error(t, e.records.RunImport(context.Background(), tn.OrgID, imp.ID, false))
	require.Equal(t, record.ImportRunning, e.getImport(t, tn, imp.ID).Status)
	res = e.do(t, http.MethodPost, path+"/sync", tok)
	requireStatus(t, http.StatusConflict, res)
	require.NoError(t, e.records.RunImport(context.Background(), tn.OrgID, imp.ID, true))
	imp = e.getImport(t, tn, imp.ID)
	require.Equal(t, record.ImportFailed, imp.Status)
	require.Contains(t, imp.Failure, "unavailable")

	// An inactive integration is not pulled.
	res = e.do(t, http.MethodPatch, path, tok, withJSON(map[string]any{"is_active": false}))
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodPost, path+"/sync", tok)
	requireStatus(t, http.StatusConflict, res)
}

// The default client refuses private and loopback addresses: a tenant's
// URL must not reach the server's own network.
func TestDMSIntegrationRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	x := newDMSExport(t)
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	integ, _ := e.createIntegration(t, tok, csvIntegration(x.srv.URL))
	res := e.do(t, http.MethodPost, dmsPath+"/"+integ.ID.String()+"/test", tok)
	requireStatus(t, http.StatusOK, res)
	var got record.IntegrationTest
	res.decode(t, &got)
	require.False(t, got.OK)
	require.Contains(t, got.Message, "private")
	x.mu.Lock()
	require.Empty(t, x.since, "no request reached the server")
	x.mu.Unlock()
}

func TestDMSIntegrationPushAndAdapters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	tok := withToken(tn.Owner.Token)

	push, _ := e.createIntegration(t, tok, map[string]any{"name": "Middleware", "type": "api_push"})
	res := e.do(t, http.MethodPost, "/api/v1/service-records/batch", withToken(e.authAPIKey(t, tn, access.RoleAgent)), withJSON(map[string]any{
		"dms_integration_id": push.ID, "records": []any{recordBody("P-1", nil)},
	}))
	requireStatus(t, http.StatusOK, res)
	var out record.BatchResult
	res.decode(t, &out)
	require.Equal(t, 1, out.Created)
	res = e.do(t, http.MethodGet, "/api/v1/service-records/"+out.Results[0].ID.String(), tok)
	var rec record.ServiceRecord
	res.decode(t, &rec)
	require.Equal(t, record.SourceDMS, rec.Source)
	require.Equal(t, push.ID, *rec.DMSIntegrationID)
	res = e.do(t, http.MethodGet, dmsPath+"/"+push.ID.String(), tok)
	var cur record.Integration
	res.decode(t, &cur)
	require.NotNil(t, cur.LastSyncAt, "a push counts as a sync")

	res = e.do(t, http.MethodPost, dmsPath+"/"+push.ID.String()+"/test", tok)
	requireStatus(t, http.StatusOK, res)
	res = e.do(t, http.MethodPost, dmsPath+"/"+push.ID.String()+"/sync", tok)
	requireStatus(t, http.StatusUnprocessableEntity, res)
	require.Contains(t, res.problem(t).Detail, "batch")

	// The DMSs without an adapter yet can be configured, not run.
	cdk, _ := e.createIntegration(t, tok, map[string]any{"name": "CDK", "type": "cdk", "config": map[string]any{"dealer_id": "3PA1234", "client_secret": "cs"}})
	require.False(t, cdk.AdapterAvailable)
	require.Equal(t, []string{"client_secret"}, cdk.SecretsSet)
	for _, action := range []string{"test", "sync"} {
		res = e.do(t, http.MethodPost, dmsPath+"/"+cdk.ID.String()+"/"+action, tok)
		requireStatus(t, http.StatusUnprocessableEntity, res)
		require.Contains(t, res.problem(t).Detail, "DMS.md")
	}
}

func TestDMSIntegrationBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tn := e.newTenant(t)
	other := e.newTenant(t)
	tok := withToken(tn.Owner.Token)
	theirs, _ := e.createIntegration(t, withToken(other.Owner.Token), csvIntegration("https://dms.example.com"))
	e.createIntegration(t, tok, map[string]any{"name": "Taken", "type": "api_push"})

	csvWith := func(config map[string]any) []reqOpt {
		return []reqOpt{withJSON(map[string]any{"name": "X " + uuid.NewString()[:6], "type": "csv", "config": config})}
	}
	tests := []struct {
		name   string
		method string
		path   string
		opts   []reqOpt
		status int
		field  string
	}{
		{"http url", http.MethodPost, dmsPath, csvWith(map[string]any{"url": "http://dms.example.com/x.csv"}), 422, "body.config.url"},
		{"no url", http.MethodPost, dmsPath, csvWith(map[string]any{}), 422, "body.config.url"},
		{"credentials in url", http.MethodPost, dmsPath, csvWith(map[string]any{"url": "https://u:p@dms.example.com/x.csv"}), 422, "body.config.url"},
		{"non-string secret", http.MethodPost, dmsPath, csvWith(map[string]any{"url": "https://d.example.com/x", "password": 5}), 422, "body.config.password"},
		{"username without password", http.MethodPost, dmsPath, csvWith(map[string]any{"url": "https://d.example.com/x", "username": "u"}), 422, "body.config.password"},
		{"bad key", http.MethodPost, dmsPath, csvWith(map[string]any{"url": "https://d.example.com/x", "Bad-Key": "v"}), 422, "body.config"},
		{"long delimiter", http.MethodPost, dmsPath, csvWith(map[string]any{"url": "https://d.example.com/x", "delimiter": ";;"}), 422, "body.config.delimiter"},
		{"bad type", http.MethodPost, dmsPath, []reqOpt{withJSON(map[string]any{"name": "X", "type": "dms9000"})}, 422, ""},
		{"blank name", http.MethodPost, dmsPath, []reqOpt{withJSON(map[string]any{"name": "  ", "type": "api_push"})}, 422, "body.name"},
		{"name taken", http.MethodPost, dmsPath, []reqOpt{withJSON(map[string]any{"name": "Taken", "type": "api_push"})}, 409, ""},
		{"timeout too long", http.MethodPost, dmsPath, []reqOpt{withJSON(map[string]any{"name": "T", "type": "api_push", "timeout_seconds": 601})}, 422, ""},
		{"foreign get", http.MethodGet, dmsPath + "/" + theirs.ID.String(), nil, 404, ""},
		{"foreign patch", http.MethodPatch, dmsPath + "/" + theirs.ID.String(), []reqOpt{withJSON(map[string]any{"name": "mine"})}, 404, ""},
		{"foreign delete", http.MethodDelete, dmsPath + "/" + theirs.ID.String(), nil, 404, ""},
		{"foreign test", http.MethodPost, dmsPath + "/" + theirs.ID.String() + "/test", nil, 404, ""},
		{"foreign sync", http.MethodPost, dmsPath + "/" + theirs.ID.String() + "/sync", nil, 404, ""},
		{"foreign push", http.MethodPost, "/api/v1/service-records/batch", []reqOpt{withJSON(map[string]any{"dms_integration_id": theirs.ID, "records": []any{recordBody("F", nil)}})}, 422, "body.dms_integration_id"},
		{"bad uuid", http.MethodGet, dmsPath + "/nope", nil, 422, ""},
		{"bad type filter", http.MethodGet, dmsPath + "?type=nope", nil, 422, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(t, tt.method, tt.path, append([]reqOpt{tok}, tt.opts...)...)
			requireStatus(t, tt.status, res)
			p := res.problem(t)
			if tt.field != "" {
				require.NotEmpty(t, p.Errors, "body: %s", res.Body)
				require.Equal(t, tt.field, p.Errors[0].Location, "body: %s", res.Body)
			}
		})
	}
	res := e.do(t, http.MethodGet, dmsPath+"/"+theirs.ID.String(), withToken(other.Owner.Token))
	requireStatus(t, http.StatusOK, res)
	require.Equal(t, "Nightly export", fmt.Sprint(theirs.Name))
}
