/* le.h — the little-endian 32-bit words of facekit's binary formats
 * (cnnmodel(5), fkcascade(5)), byte by byte whatever the host's order */
#ifndef FK_LE_H
#define FK_LE_H

#include <stdint.h>

static inline uint32_t le32_get(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void le32_put(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

#endif
