/*
 * Reading the small text files an operator hands us (root hints, trust
 * anchors): whole, bounded, and refused with a message naming the file when
 * they are not what a text file should be.
 */
#pragma once

#include <stddef.h>

/*!
 * \brief Read a text file of at most max octets into a new NUL-terminated
 *        buffer.
 * \param out  receives the buffer (free()) on success.
 * \param err  on failure: "PATH: what is wrong" (missing, unreadable, larger
 *             than max, a NUL octet inside).
 * \return 0, -errno from opening, -EINVAL (too large, unreadable, not text)
 *         or -ENOMEM.
 */
int hf_file_read_text(const char *path, size_t max, char **out, char *err, size_t err_size);

/*!
 * \brief The next line of a zone-file-like text, cut in place: its newline
 *        becomes a NUL, and a ';' comment is cut off.
 * \param next  the text at first; advanced past the line (NULL after the last).
 * \return The line, or NULL when there is none left.
 */
char *hf_text_next_line(char **next);
