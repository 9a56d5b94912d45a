expectTokenRefused();
