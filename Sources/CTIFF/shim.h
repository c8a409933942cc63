#ifndef CTIFF_SHIM_H
#define CTIFF_SHIM_H
#include <stdarg.h>
#include <stdio.h>
#include <tiffio.h>

/* Swift cannot call the variadic TIFFSetField/TIFFGetField, nor define a C callback that takes a
 * va_list portably: these typed wrappers and an error collector bridge them. Integer tag values
 * narrower than int are passed as int (C default promotion), as libtiff reads them. */

/* The last libtiff error (and the count of errors) reported for one TIFF handle. */
typedef struct {
    char message[512];
    int count;
} emf_tiff_errors;

static inline int emf_tiff_collect_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif;
    emf_tiff_errors *errors = (emf_tiff_errors *)user;
    if (errors == NULL) return 1;
    int used = 0;
    if (module != NULL) used = snprintf(errors->message, sizeof errors->message, "%s: ", module);
    if (used < 0 || (size_t)used >= sizeof errors->message) used = 0;
    vsnprintf(errors->message + used, sizeof errors->message - (size_t)used, fmt, ap);
    errors->count += 1;
    return 1; /* handled: libtiff does not print it */
}

static inline int emf_tiff_ignore_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif; (void)user; (void)module; (void)fmt; (void)ap;
    return 1; /* handled: unknown private tags (ImageJ, tifffile) are not worth a line on stderr */
}

static inline TIFFOpenOptions *emf_tiff_options(emf_tiff_errors *errors) {
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    if (options == NULL) return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(options, emf_tiff_collect_error, errors);
    TIFFOpenOptionsSetWarningHandlerExtR(options, emf_tiff_ignore_warning, NULL);
    return options;
}

/* Opens `path` with `mode` ("r", "w", "w8"), reporting errors into `errors`. */
static inline TIFF *emf_tiff_open(const char *path, const char *mode, emf_tiff_errors *errors) {
    TIFFOpenOptions *options = emf_tiff_options(errors);
    if (options == NULL) return NULL;
    TIFF *tif = TIFFOpenExt(path, mode, options);
    TIFFOpenOptionsFree(options);
    return tif;
}

/* Wraps an open descriptor (closed by TIFFClose) with `mode`, reporting errors into `errors`. */
static inline TIFF *emf_tiff_fdopen(int fd, const char *name, const char *mode, emf_tiff_errors *errors) {
    TIFFOpenOptions *options = emf_tiff_options(errors);
    if (options == NULL) return NULL;
    TIFF *tif = TIFFFdOpenExt(fd, name, mode, options);
    TIFFOpenOptionsFree(options);
    return tif;
}

static inline int emf_tiff_set_u16(TIFF *tif, uint32_t tag, uint16_t value) { return TIFFSetField(tif, tag, (int)value); }
static inline int emf_tiff_set_u32(TIFF *tif, uint32_t tag, uint32_t value) { return TIFFSetField(tif, tag, value); }
static inline int emf_tiff_set_int(TIFF *tif, uint32_t tag, int value) { return TIFFSetField(tif, tag, value); }
static inline int emf_tiff_set_double(TIFF *tif, uint32_t tag, double value) { return TIFFSetField(tif, tag, value); }
static inline int emf_tiff_set_string(TIFF *tif, uint32_t tag, const char *value) { return TIFFSetField(tif, tag, value); }

static inline int emf_tiff_get_u16(TIFF *tif, uint32_t tag, uint16_t *value) { return TIFFGetField(tif, tag, value); }
static inline int emf_tiff_get_u32(TIFF *tif, uint32_t tag, uint32_t *value) { return TIFFGetField(tif, tag, value); }
/* Rational tags such as XResolution come back as float. */
static inline int emf_tiff_get_float(TIFF *tif, uint32_t tag, float *value) { return TIFFGetField(tif, tag, value); }
static inline int emf_tiff_get_string(TIFF *tif, uint32_t tag, const char **value) { return TIFFGetField(tif, tag, value); }
static inline int emf_tiff_get_u16_defaulted(TIFF *tif, uint32_t tag, uint16_t *value) { return TIFFGetFieldDefaulted(tif, tag, value); }
static inline int emf_tiff_get_u32_defaulted(TIFF *tif, uint32_t tag, uint32_t *value) { return TIFFGetFieldDefaulted(tif, tag, value); }

#endif
