#ifndef BUILDCHAIN_CCURL_SHIM_H
#define BUILDCHAIN_CCURL_SHIM_H
#include <curl/curl.h>

// Swift cannot call C variadic functions, so each curl_easy_setopt / getinfo
// shape the client uses gets a typed wrapper.

typedef size_t (*bc_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);
typedef int (*bc_curl_seek_callback)(void *context, curl_off_t offset, int origin);
typedef int (*bc_curl_xferinfo_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow,
                                         curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode bc_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode bc_curl_set_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode bc_curl_set_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode bc_curl_set_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode bc_curl_set_headers(CURL *handle, struct curl_slist *headers) {
    return curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
}
static inline CURLcode bc_curl_set_data_callback(CURL *handle, CURLoption option, bc_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}
static inline CURLcode bc_curl_set_xferinfo_callback(CURL *handle, bc_curl_xferinfo_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}
static inline CURLcode bc_curl_set_seek_callback(CURL *handle, bc_curl_seek_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, callback);
}
static inline CURLcode bc_curl_get_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode bc_curl_get_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLMcode bc_curl_multi_set_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}
/// The result of a CURLMSG_DONE message (Swift does not see into CURLMsg's union).
static inline CURLcode bc_curl_msg_result(const CURLMsg *message) { return message->data.result; }

static const size_t bc_curl_read_abort = CURL_READFUNC_ABORT;
static const size_t bc_curl_read_pause = CURL_READFUNC_PAUSE;
static const size_t bc_curl_write_pause = CURL_WRITEFUNC_PAUSE;
static const int bc_curl_pause_continue = CURLPAUSE_CONT;
static const int bc_curl_seek_ok = CURL_SEEKFUNC_OK;
static const int bc_curl_seek_cantseek = CURL_SEEKFUNC_CANTSEEK;
#endif
