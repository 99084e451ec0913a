#ifndef BUILDCHAIN_COPENSSL_SHIM_H
#define BUILDCHAIN_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#endif
