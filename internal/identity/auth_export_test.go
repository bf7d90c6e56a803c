package identity

// LoginDelay exposes loginDelay to the external tests.
var LoginDelay = loginDelay
