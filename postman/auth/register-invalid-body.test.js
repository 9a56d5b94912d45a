expectInvalidFields(['username', 'email', 'password']);
