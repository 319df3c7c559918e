/*
 * A fake libnvidia-ml.so.1 for the tests of inference.host_tuning.
 *
 * Copyright: (c) 2026, inference.host_tuning contributors
 * GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
 *
 * It implements the NVML entry points the collection calls, with NVML's C
 * signatures, so the real pynvml bindings load and use it unchanged.  The GPUs
 * it shows come from a JSON state file (FAKE_NVML_STATE, default
 * /var/lib/fake-nvml/state.json), read again on every nvmlInit, and every
 * successful set call writes the state back (temp file + rename), so tests and
 * Molecule verifiers can check the effect from the file.
 *
 * State file (examples: tests/fake_nvml/states/):
 *   driver_version (string), cuda_driver_version (int, 12040 = 12.4),
 *   permission (bool, false: every set call fails with NO_PERMISSION),
 *   fail_call {name, nth, error}: the nth call (counted from nvmlInit) of the
 *   named entry point returns `error` instead of doing anything,
 *   gpus: [ {name, uuid, pci_bus_id, pci_device_id, numa_node (int or null:
 *   not supported), memory_total, memory_used, persistence_mode (bool),
 *   power_limit, power_default_limit, power_min_limit, power_max_limit (mW),
 *   mig_capable (bool), mig_current, mig_pending (0/1), mig_apply_immediately
 *   (bool), compute_mode (NVML value), clock_sm, clock_mem, app_clock_sm,
 *   app_clock_mem, default_app_clock_sm, default_app_clock_mem, max_clock_sm,
 *   supported_mem_clocks [..], applications_clocks_supported (bool),
 *   locked_clock_min, locked_clock_max (0: not locked), ecc_current,
 *   ecc_pending (bool or null: not supported), permission (bool)} ].
 *
 * The JSON reader is a small, complete reader of RFC 8259 text (objects keep
 * their key order, strings support escapes; \u escapes outside ASCII are
 * written back as '?').  Integers are kept as 64-bit integers.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))

typedef int nvmlReturn_t;
enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_UNKNOWN = 999,
};

enum { NVML_CLOCK_GRAPHICS = 0, NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2, NVML_CLOCK_VIDEO = 3 };

typedef struct {
    char busIdLegacy[16];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pciDeviceId;
    unsigned int pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;

typedef struct {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;

/* ------------------------------------------------------------------ JSON */

enum jtype { J_NULL, J_BOOL, J_INT, J_REAL, J_STR, J_ARR, J_OBJ };

typedef struct jval {
    enum jtype type;
    long long i;           /* J_BOOL, J_INT */
    double d;              /* J_REAL */
    char *s;               /* J_STR */
    struct jval **items;   /* J_ARR, J_OBJ values */
    char **keys;           /* J_OBJ */
    size_t n;
} jval;

static jval *jnew(enum jtype t)
{
    jval *v = calloc(1, sizeof(*v));
    if (!v) abort();
    v->type = t;
    return v;
}

static void jfree(jval *v)
{
    size_t k;
    if (!v) return;
    for (k = 0; k < v->n; k++) {
        jfree(v->items[k]);
        if (v->keys) free(v->keys[k]);
    }
    free(v->items);
    free(v->keys);
    free(v->s);
    free(v);
}

static void jpush(jval *c, char *key, jval *item)
{
    c->items = realloc(c->items, (c->n + 1) * sizeof(*c->items));
    if (!c->items) abort();
    if (c->type == J_OBJ) {
        c->keys = realloc(c->keys, (c->n + 1) * sizeof(*c->keys));
        if (!c->keys) abort();
        c->keys[c->n] = key;
    }
    c->items[c->n++] = item;
}

typedef struct { const char *p; const char *end; int bad; } reader;

static void skipws(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static jval *parse_value(reader *r, int depth);

static char *parse_string(reader *r)
{
    size_t cap = 16, len = 0;
    char *out;
    if (r->p >= r->end || *r->p != '"') { r->bad = 1; return NULL; }
    r->p++;
    out = malloc(cap);
    if (!out) abort();
    while (r->p < r->end && *r->p != '"') {
        char c = *r->p++;
        if ((unsigned char)c < 0x20) { r->bad = 1; break; }
        if (c == '\\') {
            if (r->p >= r->end) { r->bad = 1; break; }
            c = *r->p++;
            switch (c) {
            case '"': case '\\': case '/': break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                unsigned int code = 0;
                int k;
                if (r->end - r->p < 4) { r->bad = 1; break; }
                for (k = 0; k < 4; k++) {
                    char h = r->p[k];
                    if (!isxdigit((unsigned char)h)) { r->bad = 1; break; }
                    code = code * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
                }
                r->p += 4;
                c = code < 0x80 ? (char)code : '?';
                break;
            }
            default: r->bad = 1;
            }
            if (r->bad) break;
        }
        if (len + 2 > cap) {
            cap *= 2;
            out = realloc(out, cap);
            if (!out) abort();
        }
        out[len++] = c;
    }
    if (r->p >= r->end) r->bad = 1;
    else r->p++;
    out[len] = '\0';
    if (r->bad) { free(out); return NULL; }
    return out;
}

static jval *parse_number(reader *r)
{
    const char *start = r->p;
    int real = 0;
    char buf[64];
    size_t len;
    jval *v;
    if (r->p < r->end && *r->p == '-') r->p++;
    if (r->p >= r->end || !isdigit((unsigned char)*r->p)) { r->bad = 1; return NULL; }
    while (r->p < r->end && (isdigit((unsigned char)*r->p) || strchr(".eE+-", *r->p))) {
        if (strchr(".eE", *r->p)) real = 1;
        r->p++;
    }
    len = (size_t)(r->p - start);
    if (len >= sizeof(buf)) { r->bad = 1; return NULL; }
    memcpy(buf, start, len);
    buf[len] = '\0';
    if (real) {
        v = jnew(J_REAL);
        v->d = strtod(buf, NULL);
    } else {
        v = jnew(J_INT);
        errno = 0;
        v->i = strtoll(buf, NULL, 10);
        if (errno) { jfree(v); r->bad = 1; return NULL; }
    }
    return v;
}

static int literal(reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) >= n && strncmp(r->p, word, n) == 0) {
        r->p += n;
        return 1;
    }
    return 0;
}

static jval *parse_container(reader *r, int depth, int obj)
{
    jval *c = jnew(obj ? J_OBJ : J_ARR);
    char close = obj ? '}' : ']';
    r->p++;
    skipws(r);
    if (r->p < r->end && *r->p == close) { r->p++; return c; }
    for (;;) {
        char *key = NULL;
        jval *item;
        skipws(r);
        if (obj) {
            key = parse_string(r);
            if (!key) break;
            skipws(r);
            if (r->p >= r->end || *r->p != ':') { free(key); r->bad = 1; break; }
            r->p++;
        }
        item = parse_value(r, depth + 1);
        if (!item) { free(key); r->bad = 1; break; }
        jpush(c, key, item);
        skipws(r);
        if (r->p < r->end && *r->p == ',') { r->p++; continue; }
        if (r->p < r->end && *r->p == close) { r->p++; return c; }
        r->bad = 1;
        break;
    }
    jfree(c);
    return NULL;
}

static jval *parse_value(reader *r, int depth)
{
    jval *v;
    skipws(r);
    if (depth > 64 || r->p >= r->end) { r->bad = 1; return NULL; }
    switch (*r->p) {
    case '{': return parse_container(r, depth, 1);
    case '[': return parse_container(r, depth, 0);
    case '"':
        v = jnew(J_STR);
        v->s = parse_string(r);
        if (!v->s) { jfree(v); return NULL; }
        return v;
    default:
        if (literal(r, "true")) { v = jnew(J_BOOL); v->i = 1; return v; }
        if (literal(r, "false")) return jnew(J_BOOL);
        if (literal(r, "null")) return jnew(J_NULL);
        return parse_number(r);
    }
}

static jval *jget(const jval *obj, const char *key)
{
    size_t k;
    if (!obj || obj->type != J_OBJ) return NULL;
    for (k = 0; k < obj->n; k++)
        if (strcmp(obj->keys[k], key) == 0) return obj->items[k];
    return NULL;
}

/* Set an integer (or boolean) member, adding it when missing. */
static void jset(jval *obj, const char *key, enum jtype t, long long value)
{
    jval *v = jget(obj, key);
    if (!v) {
        char *k = strdup(key);
        if (!k) abort();
        v = jnew(t);
        jpush(obj, k, v);
    }
    free(v->s);
    v->s = NULL;
    v->type = t;
    v->i = value;
}

static void write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static int scalar_array(const jval *v)
{
    size_t k;
    for (k = 0; k < v->n; k++)
        if (v->items[k]->type == J_ARR || v->items[k]->type == J_OBJ) return 0;
    return 1;
}

static void write_value(FILE *f, const jval *v, int indent)
{
    size_t k;
    switch (v->type) {
    case J_NULL: fputs("null", f); break;
    case J_BOOL: fputs(v->i ? "true" : "false", f); break;
    case J_INT: fprintf(f, "%lld", v->i); break;
    case J_REAL: fprintf(f, "%.17g", v->d); break;
    case J_STR: write_string(f, v->s); break;
    case J_ARR:
        if (v->n == 0 || scalar_array(v)) {
            fputc('[', f);
            for (k = 0; k < v->n; k++) {
                if (k) fputs(", ", f);
                write_value(f, v->items[k], indent);
            }
            fputc(']', f);
            break;
        }
        /* fall through */
    case J_OBJ:
        if (v->n == 0) { fputs(v->type == J_OBJ ? "{}" : "[]", f); break; }
        fputc(v->type == J_OBJ ? '{' : '[', f);
        for (k = 0; k < v->n; k++) {
            fprintf(f, "%s\n%*s", k ? "," : "", indent + 2, "");
            if (v->type == J_OBJ) {
                write_string(f, v->keys[k]);
                fputs(": ", f);
            }
            write_value(f, v->items[k], indent + 2);
        }
        fprintf(f, "\n%*s%c", indent, "", v->type == J_OBJ ? '}' : ']');
        break;
    }
}

/* ----------------------------------------------------------------- state */

#define MAX_GPUS 64

typedef struct { jval *node; } device;

static jval *g_state;
static device g_devs[MAX_GPUS];
static unsigned int g_ndev;
static char g_path[4096];
static long g_fail_count;

static const char *state_path(void)
{
    const char *p = getenv("FAKE_NVML_STATE");
    return (p && *p) ? p : "/var/lib/fake-nvml/state.json";
}

static void unload(void)
{
    jfree(g_state);
    g_state = NULL;
    g_ndev = 0;
}

static nvmlReturn_t load(void)
{
    FILE *f;
    long size;
    char *buf;
    reader r;
    jval *gpus;
    size_t k;

    unload();
    snprintf(g_path, sizeof(g_path), "%s", state_path());
    f = fopen(g_path, "rb");
    if (!f) {
        fprintf(stderr, "fake-nvml: cannot open state %s: %s\n", g_path, strerror(errno));
        return NVML_ERROR_DRIVER_NOT_LOADED;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NVML_ERROR_DRIVER_NOT_LOADED;
    }
    buf = malloc((size_t)size + 1);
    if (!buf) abort();
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        fclose(f);
        return NVML_ERROR_DRIVER_NOT_LOADED;
    }
    fclose(f);
    r.p = buf;
    r.end = buf + size;
    r.bad = 0;
    g_state = parse_value(&r, 0);
    skipws(&r);
    if (g_state && r.p != r.end) r.bad = 1;
    free(buf);
    if (!g_state || r.bad || g_state->type != J_OBJ) {
        fprintf(stderr, "fake-nvml: %s is not valid JSON state\n", g_path);
        unload();
        return NVML_ERROR_DRIVER_NOT_LOADED;
    }
    if (jget(g_state, "driver_loaded") && !jget(g_state, "driver_loaded")->i) {
        unload();
        return NVML_ERROR_DRIVER_NOT_LOADED;
    }
    gpus = jget(g_state, "gpus");
    if (gpus && gpus->type == J_ARR) {
        for (k = 0; k < gpus->n && k < MAX_GPUS; k++) {
            if (gpus->items[k]->type != J_OBJ) continue;
            g_devs[g_ndev++].node = gpus->items[k];
        }
    }
    return NVML_SUCCESS;
}

static nvmlReturn_t save(void)
{
    char tmp[4200];
    FILE *f;
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", g_path, (long)getpid());
    f = fopen(tmp, "w");
    if (!f) return NVML_ERROR_UNKNOWN;
    write_value(f, g_state, 0);
    fputc('\n', f);
    if (fclose(f) != 0 || rename(tmp, g_path) != 0) {
        unlink(tmp);
        return NVML_ERROR_UNKNOWN;
    }
    return NVML_SUCCESS;
}

/* The injected fault, when this call of `name` is the one to fail. */
static nvmlReturn_t fault(const char *name)
{
    jval *fc = jget(g_state, "fail_call");
    jval *fname = jget(fc, "name");
    jval *nth = jget(fc, "nth");
    jval *err = jget(fc, "error");
    if (!fname || fname->type != J_STR || strcmp(fname->s, name) != 0) return NVML_SUCCESS;
    g_fail_count++;
    if (nth && nth->type == J_INT && g_fail_count != nth->i) return NVML_SUCCESS;
    return (err && err->type == J_INT) ? (nvmlReturn_t)err->i : NVML_ERROR_UNKNOWN;
}

static long long num(const device *d, const char *key, long long dflt)
{
    jval *v = jget(d->node, key);
    if (!v || (v->type != J_INT && v->type != J_BOOL)) return dflt;
    return v->i;
}

static const char *str(const device *d, const char *key)
{
    jval *v = jget(d->node, key);
    return (v && v->type == J_STR) ? v->s : "";
}

static int is_null(const device *d, const char *key)
{
    jval *v = jget(d->node, key);
    return v && v->type == J_NULL;
}

static int allowed(const device *d)
{
    jval *p = jget(g_state, "permission");
    if (p && p->type == J_BOOL && !p->i) return 0;
    return num(d, "permission", 1) != 0;
}

static device *dev(void *handle)
{
    device *d = handle;
    if (!g_state || d < g_devs || d >= g_devs + g_ndev) return NULL;
    return d;
}

static nvmlReturn_t copy_out(char *dst, unsigned int len, const char *src)
{
    if (!dst) return NVML_ERROR_INVALID_ARGUMENT;
    if (strlen(src) + 1 > len) return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(dst, src, strlen(src) + 1);
    return NVML_SUCCESS;
}

/* Common prologue: initialised, injected fault, valid handle. */
#define ENTER(name)                                                      \
    nvmlReturn_t rc_;                                                    \
    if (!g_state) return NVML_ERROR_UNINITIALIZED;                       \
    if ((rc_ = fault(name)) != NVML_SUCCESS) return rc_
#define ENTER_DEV(name, handle, d)                                       \
    ENTER(name);                                                         \
    device *d = dev(handle);                                             \
    if (!d) return NVML_ERROR_INVALID_ARGUMENT
#define ENTER_SET(name, handle, d)                                       \
    ENTER_DEV(name, handle, d);                                          \
    if (!allowed(d)) return NVML_ERROR_NO_PERMISSION

/* ------------------------------------------------------------ entry points */

API const char *fakeNvmlIsFake(void) { return "inference.host_tuning fake NVML"; }

API nvmlReturn_t nvmlInitWithFlags(unsigned int flags)
{
    nvmlReturn_t rc;
    (void)flags;
    g_fail_count = 0;
    rc = load();
    if (rc == NVML_SUCCESS && (rc = fault("nvmlInit")) != NVML_SUCCESS) unload();
    return rc;
}

API nvmlReturn_t nvmlInit_v2(void) { return nvmlInitWithFlags(0); }
API nvmlReturn_t nvmlInit(void) { return nvmlInitWithFlags(0); }

API nvmlReturn_t nvmlShutdown(void)
{
    if (!g_state) return NVML_ERROR_UNINITIALIZED;
    unload();
    return NVML_SUCCESS;
}

API const char *nvmlErrorString(nvmlReturn_t result)
{
    switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_UNKNOWN: return "Unknown Error";
    default: return "Unknown Error";
    }
}

API nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    jval *v;
    ENTER("nvmlSystemGetDriverVersion");
    v = jget(g_state, "driver_version");
    return copy_out(version, length, (v && v->type == J_STR) ? v->s : "550.90.07");
}

static nvmlReturn_t cuda_version(int *version)
{
    jval *v = jget(g_state, "cuda_driver_version");
    if (!version) return NVML_ERROR_INVALID_ARGUMENT;
    *version = (v && v->type == J_INT) ? (int)v->i : 12040;
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *version)
{
    ENTER("nvmlSystemGetCudaDriverVersion");
    return cuda_version(version);
}

API nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *version)
{
    ENTER("nvmlSystemGetCudaDriverVersion_v2");
    return cuda_version(version);
}

API nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
    ENTER("nvmlDeviceGetCount_v2");
    if (!count) return NVML_ERROR_INVALID_ARGUMENT;
    *count = g_ndev;
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **device_out)
{
    ENTER("nvmlDeviceGetHandleByIndex_v2");
    if (!device_out || index >= g_ndev) return NVML_ERROR_INVALID_ARGUMENT;
    *device_out = &g_devs[index];
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetName(void *handle, char *name, unsigned int length)
{
    ENTER_DEV("nvmlDeviceGetName", handle, d);
    return copy_out(name, length, str(d, "name"));
}

API nvmlReturn_t nvmlDeviceGetUUID(void *handle, char *uuid, unsigned int length)
{
    ENTER_DEV("nvmlDeviceGetUUID", handle, d);
    return copy_out(uuid, length, str(d, "uuid"));
}

API nvmlReturn_t nvmlDeviceGetPciInfo_v3(void *handle, nvmlPciInfo_t *pci)
{
    unsigned int domain = 0, bus = 0, slot = 0, fn = 0;
    ENTER_DEV("nvmlDeviceGetPciInfo_v3", handle, d);
    if (!pci) return NVML_ERROR_INVALID_ARGUMENT;
    memset(pci, 0, sizeof(*pci));
    if (sscanf(str(d, "pci_bus_id"), "%x:%x:%x.%x", &domain, &bus, &slot, &fn) != 4)
        return NVML_ERROR_UNKNOWN;
    pci->domain = domain;
    pci->bus = bus;
    pci->device = slot;
    pci->pciDeviceId = (unsigned int)num(d, "pci_device_id", 0x233010de);
    pci->pciSubSystemId = (unsigned int)num(d, "pci_subsystem_id", 0);
    snprintf(pci->busId, sizeof(pci->busId), "%08X:%02X:%02X.%X", domain, bus, slot, fn);
    snprintf(pci->busIdLegacy, sizeof(pci->busIdLegacy), "%04X:%02X:%02X.%X", domain & 0xffff, bus, slot, fn);
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetMemoryInfo(void *handle, nvmlMemory_t *memory)
{
    ENTER_DEV("nvmlDeviceGetMemoryInfo", handle, d);
    if (!memory) return NVML_ERROR_INVALID_ARGUMENT;
    memory->total = (unsigned long long)num(d, "memory_total", 0);
    memory->used = (unsigned long long)num(d, "memory_used", 0);
    memory->free = memory->total > memory->used ? memory->total - memory->used : 0;
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetNumaNodeId(void *handle, unsigned int *node)
{
    ENTER_DEV("nvmlDeviceGetNumaNodeId", handle, d);
    if (!node) return NVML_ERROR_INVALID_ARGUMENT;
    if (is_null(d, "numa_node") || !jget(d->node, "numa_node")) return NVML_ERROR_NOT_SUPPORTED;
    *node = (unsigned int)num(d, "numa_node", 0);
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetPersistenceMode(void *handle, int *mode)
{
    ENTER_DEV("nvmlDeviceGetPersistenceMode", handle, d);
    if (!mode) return NVML_ERROR_INVALID_ARGUMENT;
    *mode = num(d, "persistence_mode", 0) ? 1 : 0;
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceSetPersistenceMode(void *handle, int mode)
{
    ENTER_SET("nvmlDeviceSetPersistenceMode", handle, d);
    if (mode != 0 && mode != 1) return NVML_ERROR_INVALID_ARGUMENT;
    jset(d->node, "persistence_mode", J_BOOL, mode);
    return save();
}

static nvmlReturn_t get_mw(device *d, const char *key, unsigned int *out)
{
    if (!out) return NVML_ERROR_INVALID_ARGUMENT;
    if (!jget(d->node, key) || is_null(d, key)) return NVML_ERROR_NOT_SUPPORTED;
    *out = (unsigned int)num(d, key, 0);
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetPowerManagementLimit(void *handle, unsigned int *limit)
{
    ENTER_DEV("nvmlDeviceGetPowerManagementLimit", handle, d);
    return get_mw(d, "power_limit", limit);
}

API nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(void *handle, unsigned int *limit)
{
    ENTER_DEV("nvmlDeviceGetPowerManagementDefaultLimit", handle, d);
    return get_mw(d, "power_default_limit", limit);
}

API nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(void *handle, unsigned int *min, unsigned int *max)
{
    nvmlReturn_t rc;
    ENTER_DEV("nvmlDeviceGetPowerManagementLimitConstraints", handle, d);
    if ((rc = get_mw(d, "power_min_limit", min)) != NVML_SUCCESS) return rc;
    return get_mw(d, "power_max_limit", max);
}

API nvmlReturn_t nvmlDeviceSetPowerManagementLimit(void *handle, unsigned int limit)
{
    ENTER_SET("nvmlDeviceSetPowerManagementLimit", handle, d);
    if (!jget(d->node, "power_limit") || is_null(d, "power_limit")) return NVML_ERROR_NOT_SUPPORTED;
    if (limit < num(d, "power_min_limit", 0) || limit > num(d, "power_max_limit", 0))
        return NVML_ERROR_INVALID_ARGUMENT;
    jset(d->node, "power_limit", J_INT, limit);
    return save();
}

API nvmlReturn_t nvmlDeviceGetMigMode(void *handle, unsigned int *current, unsigned int *pending)
{
    ENTER_DEV("nvmlDeviceGetMigMode", handle, d);
    if (!current || !pending) return NVML_ERROR_INVALID_ARGUMENT;
    if (!num(d, "mig_capable", 0)) return NVML_ERROR_NOT_SUPPORTED;
    *current = (unsigned int)num(d, "mig_current", 0);
    *pending = (unsigned int)num(d, "mig_pending", 0);
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceSetMigMode(void *handle, unsigned int mode, nvmlReturn_t *activation)
{
    ENTER_DEV("nvmlDeviceSetMigMode", handle, d);
    if (!activation) return NVML_ERROR_INVALID_ARGUMENT;
    if (!num(d, "mig_capable", 0)) return NVML_ERROR_NOT_SUPPORTED;
    if (!allowed(d)) return NVML_ERROR_NO_PERMISSION;
    if (mode > 1) return NVML_ERROR_INVALID_ARGUMENT;
    jset(d->node, "mig_pending", J_INT, mode);
    if (num(d, "mig_apply_immediately", 0)) {
        jset(d->node, "mig_current", J_INT, mode);
        *activation = NVML_SUCCESS;
    } else {
        *activation = num(d, "mig_current", 0) == mode ? NVML_SUCCESS : 16; /* NVML_ERROR_RESET_REQUIRED */
    }
    return save();
}

API nvmlReturn_t nvmlDeviceGetComputeMode(void *handle, int *mode)
{
    ENTER_DEV("nvmlDeviceGetComputeMode", handle, d);
    if (!mode) return NVML_ERROR_INVALID_ARGUMENT;
    *mode = (int)num(d, "compute_mode", 0);
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceSetComputeMode(void *handle, int mode)
{
    ENTER_SET("nvmlDeviceSetComputeMode", handle, d);
    if (mode == 1) return NVML_ERROR_NOT_SUPPORTED; /* EXCLUSIVE_THREAD: removed */
    if (mode != 0 && mode != 2 && mode != 3) return NVML_ERROR_INVALID_ARGUMENT;
    jset(d->node, "compute_mode", J_INT, mode);
    return save();
}

static const char *clock_key(int type, const char *sm, const char *mem)
{
    if (type == NVML_CLOCK_GRAPHICS || type == NVML_CLOCK_SM) return sm;
    if (type == NVML_CLOCK_MEM) return mem;
    return NULL;
}

static nvmlReturn_t get_clock(device *d, int type, const char *sm, const char *mem, unsigned int *out)
{
    const char *key = clock_key(type, sm, mem);
    if (!out) return NVML_ERROR_INVALID_ARGUMENT;
    if (!key) return NVML_ERROR_NOT_SUPPORTED;
    *out = (unsigned int)num(d, key, 0);
    return NVML_SUCCESS;
}

API nvmlReturn_t nvmlDeviceGetClockInfo(void *handle, int type, unsigned int *clock)
{
    ENTER_DEV("nvmlDeviceGetClockInfo", handle, d);
    return get_clock(d, type, "clock_sm", "clock_mem", clock);
}

API nvmlReturn_t nvmlDeviceGetApplicationsClock(void *handle, int type, unsigned int *clock)
{
    ENTER_DEV("nvmlDeviceGetApplicationsClock", handle, d);
    if (!num(d, "applications_clocks_supported", 1)) return NVML_ERROR_NOT_SUPPORTED;
    return get_clock(d, type, "app_clock_sm", "app_clock_mem", clock);
}

API nvmlReturn_t nvmlDeviceGetDefaultApplicationsClock(void *handle, int type, unsigned int *clock)
{
    ENTER_DEV("nvmlDeviceGetDefaultApplicationsClock", handle, d);
    if (!num(d, "applications_clocks_supported", 1)) return NVML_ERROR_NOT_SUPPORTED;
    return get_clock(d, type, "default_app_clock_sm", "default_app_clock_mem", clock);
}

static int mem_clock_supported(device *d, unsigned int mhz)
{
    jval *list = jget(d->node, "supported_mem_clocks");
    size_t k;
    if (!list || list->type != J_ARR) return mhz == (unsigned int)num(d, "default_app_clock_mem", 0);
    for (k = 0; k < list->n; k++)
        if (list->items[k]->type == J_INT && list->items[k]->i == mhz) return 1;
    return 0;
}

API nvmlReturn_t nvmlDeviceSetApplicationsClocks(void *handle, unsigned int mem, unsigned int graphics)
{
    ENTER_DEV("nvmlDeviceSetApplicationsClocks", handle, d);
    if (!num(d, "applications_clocks_supported", 1)) return NVML_ERROR_NOT_SUPPORTED;
    if (!allowed(d)) return NVML_ERROR_NO_PERMISSION;
    if (!mem_clock_supported(d, mem) || graphics == 0 || graphics > num(d, "max_clock_sm", 0))
        return NVML_ERROR_INVALID_ARGUMENT;
    jset(d->node, "app_clock_mem", J_INT, mem);
    jset(d->node, "app_clock_sm", J_INT, graphics);
    return save();
}

API nvmlReturn_t nvmlDeviceResetApplicationsClocks(void *handle)
{
    ENTER_DEV("nvmlDeviceResetApplicationsClocks", handle, d);
    if (!num(d, "applications_clocks_supported", 1)) return NVML_ERROR_NOT_SUPPORTED;
    if (!allowed(d)) return NVML_ERROR_NO_PERMISSION;
    jset(d->node, "app_clock_mem", J_INT, num(d, "default_app_clock_mem", 0));
    jset(d->node, "app_clock_sm", J_INT, num(d, "default_app_clock_sm", 0));
    return save();
}

API nvmlReturn_t nvmlDeviceSetGpuLockedClocks(void *handle, unsigned int min, unsigned int max)
{
    ENTER_SET("nvmlDeviceSetGpuLockedClocks", handle, d);
    if (min == 0 || min > max || max > num(d, "max_clock_sm", 0)) return NVML_ERROR_INVALID_ARGUMENT;
    jset(d->node, "locked_clock_min", J_INT, min);
    jset(d->node, "locked_clock_max", J_INT, max);
    return save();
}

API nvmlReturn_t nvmlDeviceResetGpuLockedClocks(void *handle)
{
    ENTER_SET("nvmlDeviceResetGpuLockedClocks", handle, d);
    jset(d->node, "locked_clock_min", J_INT, 0);
    jset(d->node, "locked_clock_max", J_INT, 0);
    return save();
}

API nvmlReturn_t nvmlDeviceGetEccMode(void *handle, int *current, int *pending)
{
    ENTER_DEV("nvmlDeviceGetEccMode", handle, d);
    if (!current || !pending) return NVML_ERROR_INVALID_ARGUMENT;
    if (!jget(d->node, "ecc_current") || is_null(d, "ecc_current")) return NVML_ERROR_NOT_SUPPORTED;
    *current = num(d, "ecc_current", 0) ? 1 : 0;
    *pending = num(d, "ecc_pending", *current) ? 1 : 0;
    return NVML_SUCCESS;
}
