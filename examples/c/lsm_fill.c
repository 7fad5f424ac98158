/* lsm_fill: fill the gaps of one 300-minute window with an lsm-edge .tflite, from C.
 *
 *   lsm_fill MODEL.tflite IN.csv OUT.csv [CALLS]
 *
 * IN.csv: a header of the 26 feature names (the model's metadata order), then 300 rows of numbers in the
 * features' own units (bpm, steps/min, ...); an empty cell or "nan" is missing.  OUT.csv: the same window
 * with every missing cell filled.  The file does all the work (normalisation, the linear fill, the model,
 * the way back to raw units): this program only moves buffers, through LiteRT's CompiledModel C API in
 * libLiteRt.so (the ai-edge-litert wheel ships it).  With CALLS, the signature is also run CALLS more times
 * between two marks (lseek(-1, MARK, 0), which the qemu counting plugin of lsm_edge/core/arm.py sees) and the
 * median wall time of one call is printed.
 *
 * Licence: Apache-2.0, as lsm-edge.  The few prototypes below are declared by hand, matching LiteRT 2.3's
 * public C headers (litert/c/litert_*.h), so that no header package is needed to build it.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int LiteRtStatus; /* 0 = ok */
typedef size_t LiteRtParamIndex;
typedef struct LiteRtEnvironmentT *LiteRtEnvironment;
typedef struct LiteRtModelT *LiteRtModel;
typedef struct LiteRtOptionsT *LiteRtOptions;
typedef struct LiteRtCompiledModelT *LiteRtCompiledModel;
typedef struct LiteRtSignatureT *LiteRtSignature;
typedef struct LiteRtTensorT *LiteRtTensor;
typedef struct LiteRtTensorBufferT *LiteRtTensorBuffer;
typedef struct LiteRtTensorBufferRequirementsT *LiteRtTensorBufferRequirements;

LiteRtStatus LiteRtCreateEnvironment(int num_options, const void *options, LiteRtEnvironment *env);
void LiteRtDestroyEnvironment(LiteRtEnvironment env);
LiteRtStatus LiteRtCreateModelFromFile(LiteRtEnvironment env, const char *path, LiteRtModel *model);
void LiteRtDestroyModel(LiteRtModel model);
LiteRtStatus LiteRtGetNumModelSignatures(LiteRtModel model, LiteRtParamIndex *num);
LiteRtStatus LiteRtGetModelSignature(LiteRtModel model, LiteRtParamIndex index, LiteRtSignature *signature);
LiteRtStatus LiteRtGetSignatureKey(LiteRtSignature signature, const char **key);
LiteRtStatus LiteRtGetNumSignatureInputs(LiteRtSignature signature, LiteRtParamIndex *num);
LiteRtStatus LiteRtGetNumSignatureOutputs(LiteRtSignature signature, LiteRtParamIndex *num);
LiteRtStatus LiteRtGetSignatureInputName(LiteRtSignature signature, LiteRtParamIndex i, const char **name);
LiteRtStatus LiteRtGetSignatureOutputName(LiteRtSignature signature, LiteRtParamIndex i, const char **name);
LiteRtStatus LiteRtGetSignatureInputTensorByIndex(LiteRtSignature signature, LiteRtParamIndex i, LiteRtTensor *t);
LiteRtStatus LiteRtGetSignatureOutputTensorByIndex(LiteRtSignature signature, LiteRtParamIndex i, LiteRtTensor *t);
LiteRtStatus LiteRtGetRankedTensorType(LiteRtTensor tensor, void *ranked_tensor_type);
LiteRtStatus LiteRtCreateOptions(LiteRtOptions *options);
LiteRtStatus LiteRtSetOptionsHardwareAccelerators(LiteRtOptions options, int accelerators);
void LiteRtDestroyOptions(LiteRtOptions options);
LiteRtStatus LiteRtCreateCompiledModel(LiteRtEnvironment env, LiteRtModel model, LiteRtOptions options,
                                       LiteRtCompiledModel *compiled);
void LiteRtDestroyCompiledModel(LiteRtCompiledModel compiled);
LiteRtStatus LiteRtGetCompiledModelInputBufferRequirements(LiteRtCompiledModel compiled, LiteRtParamIndex sig,
                                                           LiteRtParamIndex i, LiteRtTensorBufferRequirements *r);
LiteRtStatus LiteRtGetCompiledModelOutputBufferRequirements(LiteRtCompiledModel compiled, LiteRtParamIndex sig,
                                                            LiteRtParamIndex i, LiteRtTensorBufferRequirements *r);
LiteRtStatus LiteRtCreateManagedTensorBufferFromRequirements(LiteRtEnvironment env, const void *ranked_tensor_type,
                                                             LiteRtTensorBufferRequirements r,
                                                             LiteRtTensorBuffer *buffer);
LiteRtStatus LiteRtGetTensorBufferSize(LiteRtTensorBuffer buffer, size_t *size);
LiteRtStatus LiteRtLockTensorBuffer(LiteRtTensorBuffer buffer, void **host, int lock_mode); /* 0 read, 1 write */
LiteRtStatus LiteRtUnlockTensorBuffer(LiteRtTensorBuffer buffer);
void LiteRtDestroyTensorBuffer(LiteRtTensorBuffer buffer);
LiteRtStatus LiteRtRunCompiledModel(LiteRtCompiledModel compiled, LiteRtParamIndex sig, size_t n_in,
                                    LiteRtTensorBuffer *in, size_t n_out, LiteRtTensorBuffer *out);

enum { MINUTES = 300, FEATURES = 26, MAX_IO = 8, LOCK_READ = 0, LOCK_WRITE = 1, HW_CPU = 1 };
#define MARK_START 0x15ED6E00L /* lsm_edge/core/arm_guest.py: the qemu plugin counts between these two */
#define MARK_END 0x15ED6E01L

static void die(const char *what, LiteRtStatus s) {
  fprintf(stderr, "lsm_fill: %s failed (LiteRT status %d)\n", what, s);
  exit(2);
}
#define CHECK(call) do { LiteRtStatus s_ = (call); if (s_ != 0) die(#call, s_); } while (0)

/* One window from a CSV: a header line, then MINUTES rows of FEATURES cells (empty or nan = missing). */
static char header[8192];
static void read_window(const char *path, float *w) {
  FILE *f = fopen(path, "r");
  char line[8192];
  if (!f) { perror(path); exit(1); }
  if (!fgets(header, sizeof header, f)) { fprintf(stderr, "%s: empty file\n", path); exit(1); }
  for (int t = 0; t < MINUTES; t++) {
    if (!fgets(line, sizeof line, f)) {
      fprintf(stderr, "%s: %d rows; expected %d minutes after the header\n", path, t, MINUTES);
      exit(1);
    }
    char *p = line;
    for (int j = 0; j < FEATURES; j++) {
      char *end = p + strcspn(p, ",\r\n");
      char saved = *end;
      *end = 0;
      w[t * FEATURES + j] = (*p == 0) ? NAN : strtof(p, NULL);
      if (saved != ',' && j < FEATURES - 1) {
        fprintf(stderr, "%s:%d: %d cells; expected %d\n", path, t + 2, j + 1, FEATURES);
        exit(1);
      }
      p = end + 1;
    }
  }
  fclose(f);
}

static void write_window(const char *path, const float *w) {
  FILE *f = fopen(path, "w");
  if (!f) { perror(path); exit(1); }
  fputs(header, f);
  for (int t = 0; t < MINUTES; t++)
    for (int j = 0; j < FEATURES; j++) fprintf(f, "%.9g%c", w[t * FEATURES + j], j == FEATURES - 1 ? '\n' : ',');
  fclose(f);
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s MODEL.tflite IN.csv OUT.csv [CALLS]\n", argv[0]);
    return 1;
  }
  static float window[MINUTES * FEATURES];
  read_window(argv[2], window);

  LiteRtEnvironment env;
  LiteRtModel model;
  LiteRtOptions options;
  LiteRtCompiledModel compiled;
  CHECK(LiteRtCreateEnvironment(0, NULL, &env));
  CHECK(LiteRtCreateModelFromFile(env, argv[1], &model));
  LiteRtParamIndex n_sigs, sig = (LiteRtParamIndex)-1;
  LiteRtSignature signature = NULL;
  CHECK(LiteRtGetNumModelSignatures(model, &n_sigs));
  for (LiteRtParamIndex i = 0; i < n_sigs; i++) {
    const char *key;
    LiteRtSignature s;
    CHECK(LiteRtGetModelSignature(model, i, &s));
    CHECK(LiteRtGetSignatureKey(s, &key));
    if (strcmp(key, "impute") == 0) { sig = i; signature = s; }
  }
  if (!signature) { fprintf(stderr, "%s has no impute signature\n", argv[1]); return 1; }
  CHECK(LiteRtCreateOptions(&options));
  CHECK(LiteRtSetOptionsHardwareAccelerators(options, HW_CPU));
  CHECK(LiteRtCreateCompiledModel(env, model, options, &compiled));

  /* One buffer per input and output, as the compiled model asks for it; the tensor type is passed through. */
  LiteRtParamIndex n_in, n_out;
  LiteRtTensorBuffer in[MAX_IO], out[MAX_IO];
  const char *out_name[MAX_IO];
  _Alignas(16) unsigned char type[1024]; /* LiteRtRankedTensorType, opaque here */
  CHECK(LiteRtGetNumSignatureInputs(signature, &n_in));
  CHECK(LiteRtGetNumSignatureOutputs(signature, &n_out));
  if (n_in != 1 || n_out > MAX_IO) { fprintf(stderr, "impute takes %zu inputs; expected values alone\n", n_in); return 1; }
  for (LiteRtParamIndex i = 0; i < n_in; i++) {
    LiteRtTensor t;
    LiteRtTensorBufferRequirements r;
    CHECK(LiteRtGetSignatureInputTensorByIndex(signature, i, &t));
    CHECK(LiteRtGetRankedTensorType(t, type));
    CHECK(LiteRtGetCompiledModelInputBufferRequirements(compiled, sig, i, &r));
    CHECK(LiteRtCreateManagedTensorBufferFromRequirements(env, type, r, &in[i]));
  }
  for (LiteRtParamIndex i = 0; i < n_out; i++) {
    LiteRtTensor t;
    LiteRtTensorBufferRequirements r;
    CHECK(LiteRtGetSignatureOutputName(signature, i, &out_name[i]));
    CHECK(LiteRtGetSignatureOutputTensorByIndex(signature, i, &t));
    CHECK(LiteRtGetRankedTensorType(t, type));
    CHECK(LiteRtGetCompiledModelOutputBufferRequirements(compiled, sig, i, &r));
    CHECK(LiteRtCreateManagedTensorBufferFromRequirements(env, type, r, &out[i]));
  }

  /* In: the raw window, NaN where missing.  Nothing else: the file normalises and fills it. */
  void *host;
  size_t size;
  CHECK(LiteRtGetTensorBufferSize(in[0], &size));
  if (size < sizeof window) { fprintf(stderr, "values holds %zu bytes; expected %zu\n", size, sizeof window); return 1; }
  CHECK(LiteRtLockTensorBuffer(in[0], &host, LOCK_WRITE));
  memcpy(host, window, sizeof window);
  CHECK(LiteRtUnlockTensorBuffer(in[0]));
  CHECK(LiteRtRunCompiledModel(compiled, sig, n_in, in, n_out, out));

  /* Out: "values", the filled window in raw units; "invalid", the cells that were inf or out of range. */
  for (LiteRtParamIndex i = 0; i < n_out; i++) {
    CHECK(LiteRtLockTensorBuffer(out[i], &host, LOCK_READ));
    if (strcmp(out_name[i], "values") == 0) memcpy(window, host, sizeof window);
    if (strcmp(out_name[i], "invalid") == 0 && *(float *)host > 0)
      fprintf(stderr, "lsm_fill: %.0f cells were inf or outside their valid range: filled as missing\n", *(float *)host);
    CHECK(LiteRtUnlockTensorBuffer(out[i]));
  }
  write_window(argv[3], window);

  if (argc > 4) { /* CALLS more, counted between the marks; the median call time */
    int calls = atoi(argv[4]);
    double *us = malloc(sizeof(double) * (calls > 0 ? calls : 1));
    lseek(-1, MARK_START, SEEK_SET);
    for (int k = 0; k < calls; k++) {
      double t0 = now_us();
      CHECK(LiteRtRunCompiledModel(compiled, sig, n_in, in, n_out, out));
      us[k] = now_us() - t0;
    }
    lseek(-1, MARK_END, SEEK_SET);
    qsort(us, calls, sizeof(double), by_value);
    if (calls > 0) printf("median_us %.1f calls %d\n", us[calls / 2], calls);
    free(us);
  }
  for (LiteRtParamIndex i = 0; i < n_in; i++) LiteRtDestroyTensorBuffer(in[i]);
  for (LiteRtParamIndex i = 0; i < n_out; i++) LiteRtDestroyTensorBuffer(out[i]);
  LiteRtDestroyCompiledModel(compiled);
  LiteRtDestroyOptions(options);
  LiteRtDestroyModel(model);
  LiteRtDestroyEnvironment(env);
  return 0;
}
